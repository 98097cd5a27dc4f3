package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Copies a stream while hashing it. The last buffer is held back until the digest is verified,
 * so a client never receives every byte of a blob whose content is wrong: on a mismatch the copy
 * throws before the final bytes, and the connection is aborted by the errors filter.
 */
final class StreamCopy {
    static final int BUFFER = 128 * 1024;

    private StreamCopy() {
    }

    /**
     * Copies exactly {@code expectedSize} bytes and verifies them against {@code expected}.
     *
     * @throws IpfsException (CORRUPT) when the bytes or their count do not match
     */
    static void copyVerified(InputStream in, OutputStream out, Digest expected, long expectedSize, String what)
            throws IOException {
        MessageDigest md = expected.newMessageDigest();
        byte[] pending = new byte[BUFFER];
        byte[] next = new byte[BUFFER];
        int pendingLength = readFully(in, pending);
        long total = pendingLength;
        while (pendingLength == BUFFER) {
            int nextLength = readFully(in, next);
            if (nextLength == 0) {
                break;
            }
            md.update(pending, 0, pendingLength);
            out.write(pending, 0, pendingLength);
            byte[] swap = pending;
            pending = next;
            next = swap;
            pendingLength = nextLength;
            total += nextLength;
            if (total > expectedSize) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": more than the expected " + expectedSize
                        + " bytes");
            }
        }
        md.update(pending, 0, pendingLength);
        if (total != expectedSize) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": got " + total + " bytes, expected "
                    + expectedSize);
        }
        byte[] actual = md.digest();
        if (!Arrays.equals(actual, expected.bytes())) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": content does not match " + expected);
        }
        out.write(pending, 0, pendingLength);
    }

    /** Copies everything, with no verification (for a Range of a blob, see the README's limits). */
    static long copy(InputStream in, OutputStream out, long expected, String what) throws IOException {
        byte[] buffer = new byte[BUFFER];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            out.write(buffer, 0, n);
            total += n;
        }
        if (total != expected) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": got " + total + " bytes, expected "
                    + expected);
        }
        return total;
    }

    /** Reads until the buffer is full or the stream ends; returns the count. */
    static int readFully(InputStream in, byte[] buffer) throws IOException {
        int filled = 0;
        while (filled < buffer.length) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        return filled;
    }
}
