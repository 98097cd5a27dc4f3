package io.mirrorball.upstream;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** Reading small bodies (manifests, tokens, error documents) whole, under a cap. */
final class Bodies {
    private Bodies() {
    }

    /**
     * Reads at most {@code cap} bytes; more is MANIFEST_TOO_LARGE (413) when {@code manifest}, else the
     * first {@code cap} bytes are kept (an error body or token is cut, never refused).
     */
    static byte[] readCapped(InputStream in, int cap, boolean manifest, String what) throws IOException {
        byte[] buffer = new byte[Math.min(cap, 16 * 1024)];
        int filled = 0;
        while (true) {
            if (filled == buffer.length) {
                if (buffer.length >= cap) {
                    if (in.read() >= 0 && manifest) {
                        throw new OciException(OciErrorCode.MANIFEST_TOO_LARGE, what + " is over the limit of " + cap
                                + " bytes");
                    }
                    break;
                }
                buffer = Arrays.copyOf(buffer, Math.min(cap, buffer.length * 2));
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        return filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled);
    }
}
