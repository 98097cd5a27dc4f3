package io.mirrorball.upstream;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A client's body with its last buffer held back: bytes are written only when more follow, so the client
 * cannot see a complete body before {@link #release}, which comes only once the blob is verified. The
 * response is committed at the first write, so a failure before it (a small blob) can still be a clean
 * error answer, or (for a joiner) a retry as the next leader.
 */
final class WithheldOutput {
    private final ResponseSink sink;
    private final byte[] pending;
    private int pendingLength;
    private OutputStream out;

    WithheldOutput(ResponseSink sink, int size) {
        this.sink = sink;
        this.pending = new byte[size];
    }

    void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (pendingLength == pending.length) {
                send();
            }
            int n = Math.min(len, pending.length - pendingLength);
            System.arraycopy(b, off, pending, pendingLength, n);
            pendingLength += n;
            off += n;
            len -= n;
        }
    }

    /** Whether any byte reached the client (the response is committed). */
    boolean sentAny() {
        return out != null;
    }

    void release() throws IOException {
        if (pendingLength > 0) {
            send();
        }
        if (out != null) {
            out.flush();
        }
    }

    private void send() throws IOException {
        if (out == null) {
            out = sink.body();
        }
        out.write(pending, 0, pendingLength);
        pendingLength = 0;
    }
}
