package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A verified copy in two threads: a reader takes the bytes from the node and hashes them while the
 * caller's thread writes the previous buffers to the client. One thread doing both left the node's
 * connection idle during every write to the client and the client's idle during every read from the
 * node. {@link #BUFFERS} buffers circulate (backpressure: the reader waits for the writer), and the
 * last one is held back until the digest is verified, as in {@link StreamCopy#copyVerified}.
 */
final class ReadAhead {
    static final int BUFFERS = 4;

    /** A filled buffer, or the end (with the failure that ended it, if any). */
    private record Item(byte[] buffer, int length, IOException failure, boolean end) {
    }

    private ReadAhead() {
    }

    /**
     * Copies exactly {@code expectedSize} bytes of {@code in} to {@code out} and verifies them against
     * {@code expected}; {@code in} is read on one of {@code readers}' threads.
     *
     * @throws IpfsException (CORRUPT) when the bytes or their count do not match; the final bytes are
     *                       then not written
     */
    static void copyVerified(ExecutorService readers, InputStream in, OutputStream out, Digest expected,
                             long expectedSize, String what) throws IOException {
        BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[StreamCopy.BUFFER]);
        }
        BlockingQueue<Item> filled = new ArrayBlockingQueue<>(BUFFERS + 1);
        Future<?> reader = readers.submit(() -> read(in, expected, expectedSize, what, free, filled));
        boolean done = false;
        try {
            Item pending = null;
            while (true) {
                Item item = filled.take();
                if (item.end()) {
                    if (item.failure() != null) {
                        throw item.failure();
                    }
                    if (pending != null) {
                        out.write(pending.buffer(), 0, pending.length());
                    }
                    done = true;
                    return;
                }
                if (pending != null) {
                    out.write(pending.buffer(), 0, pending.length());
                    free.add(pending.buffer());
                }
                pending = item;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while streaming " + what);
        } finally {
            if (!done) {
                reader.cancel(true); // the reader may wait for a buffer that will never come back
            }
        }
    }

    private static void read(InputStream in, Digest expected, long expectedSize, String what,
                             BlockingQueue<byte[]> free, BlockingQueue<Item> filled) {
        IOException failure = null;
        try {
            MessageDigest md = expected.newMessageDigest();
            long total = 0;
            while (true) {
                byte[] buffer = free.take();
                int n = StreamCopy.readFully(in, buffer);
                total += n;
                if (total > expectedSize) {
                    throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": more than the expected "
                            + expectedSize + " bytes");
                }
                if (n > 0) {
                    md.update(buffer, 0, n);
                    filled.put(new Item(buffer, n, null, false));
                }
                if (n < buffer.length) {
                    break;
                }
            }
            if (total != expectedSize) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": got " + total + " bytes, expected "
                        + expectedSize);
            }
            if (!Arrays.equals(md.digest(), expected.bytes())) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": content does not match " + expected);
            }
        } catch (InterruptedException e) {
            return; // the writer gave up (the client went away): nobody waits for the end
        } catch (IOException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = new IOException(what + ": " + e, e);
        }
        // the filled queue has room for every buffer and the end, so this never waits
        filled.add(new Item(null, 0, failure, true));
    }
}
