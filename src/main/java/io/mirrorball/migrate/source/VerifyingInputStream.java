package io.mirrorball.migrate.source;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A source blob, hashed and counted as it is read. The digest is checked as soon as the last of
 * {@code size} bytes has been read, before those bytes are handed out, so a reader that stops at
 * {@code size} bytes never gets unchecked data; more bytes than {@code size}, or an end before it,
 * fail as well. Failures are {@link MigrateException}s of kind {@link FailureKind#INVALID_SOURCE}.
 * Closing it closes the wrapped stream.
 */
final class VerifyingInputStream extends FilterInputStream {
    private final Digest expected;
    private final long size;
    private final String what;
    private final MessageDigest digest;
    private long count;

    private VerifyingInputStream(InputStream in, Digest expected, long size, String what) {
        super(in);
        this.expected = expected;
        this.size = size;
        this.what = what;
        this.digest = expected.newMessageDigest();
    }

    /**
     * The blob from {@code offset}: the bytes before it are read and hashed (not skipped), so the
     * check still covers every byte.
     */
    static InputStream open(InputStream in, Digest expected, long size, long offset, String what) throws IOException {
        VerifyingInputStream verifying = new VerifyingInputStream(in, expected, size, what);
        if (offset < 0 || offset > size) {
            throw new IllegalArgumentException("offset " + offset + " outside blob of " + size + " bytes");
        }
        byte[] buffer = new byte[64 * 1024];
        long left = offset;
        while (left > 0) {
            int n = verifying.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                break;
            }
            left -= n;
        }
        if (size == 0) {
            verifying.check();
        }
        return verifying;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n = in.read(b, off, len);
        if (n < 0) {
            if (count != size) {
                throw invalid(what + " ends after " + count + " of its " + size + " bytes");
            }
            return -1;
        }
        if (count + n > size) {
            throw invalid(what + " is longer than its " + size + " bytes");
        }
        digest.update(b, off, n);
        count += n;
        if (count == size) {
            check();
        }
        return n;
    }

    private void check() {
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(expected.hex())) {
            throw invalid(what + " does not match its digest " + expected + " (it is " + expected.algorithm()
                    + ":" + actual + ")");
        }
    }

    private static MigrateException invalid(String message) {
        return new MigrateException(FailureKind.INVALID_SOURCE, message);
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(8192, Math.max(n, 1))];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(in.available(), size - count);
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }
}
