package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A verified copy ({@link StreamCopy#copyVerified}) whose reading and hashing run on a thread of
 * their own, ahead of the request thread that writes to the client: on two cores, the SHA-256 pass
 * and the sending overlap instead of adding up. The last buffer is still held back until the
 * digest is checked. {@link #BUFFERS} buffers circulate, so a copy holds at most that many, and a
 * slow client stops the reading (backpressure). When all {@link #MAX_THREADS} threads are busy, or
 * for a small blob, the copy runs on the caller's thread as before.
 */
final class OverlappedDigestCopy implements AutoCloseable {
    static final int BUFFERS = 4;
    /** Bytes per buffer: larger than {@link StreamCopy#BUFFER}, fewer writes and hand-overs per GiB. */
    static final int BUFFER = 512 * 1024;
    static final int MAX_THREADS = 32;
    /** Below this, a second thread costs more than it saves. */
    static final long MIN_SIZE = 4L * 1024 * 1024;

    private final ThreadPoolExecutor threads = new ThreadPoolExecutor(0, MAX_THREADS, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), Threads.named("mirrorball-digest"));

    private record Piece(byte[] bytes, int length, byte[] digest, long total, IOException failure) {
        boolean end() {
            return bytes == null;
        }
    }

    /** Copies exactly {@code expectedSize} bytes and verifies them; as {@link StreamCopy#copyVerified}. */
    void copyVerified(InputStream in, OutputStream out, Digest expected, long expectedSize, String what)
            throws IOException {
        if (expectedSize < MIN_SIZE) {
            StreamCopy.copyVerified(in, out, expected, expectedSize, what);
            return;
        }
        BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[BUFFER]);
        }
        BlockingQueue<Piece> filled = new ArrayBlockingQueue<>(BUFFERS + 1);
        Future<?> reader;
        try {
            reader = threads.submit(() -> readAndHash(in, expected.newMessageDigest(), expectedSize, free, filled));
        } catch (RejectedExecutionException busy) {
            StreamCopy.copyVerified(in, out, expected, expectedSize, what);
            return;
        }
        try {
            Piece pending = null;
            while (true) {
                Piece piece = filled.take();
                if (piece.failure() != null) {
                    throw piece.failure();
                }
                if (piece.end()) {
                    if (piece.total() != expectedSize) {
                        throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": got " + (piece.total() > expectedSize
                                ? "more than the expected " + expectedSize + " bytes"
                                : piece.total() + " bytes, expected " + expectedSize));
                    }
                    if (!MessageDigest.isEqual(piece.digest(), expected.bytes())) {
                        throw new IpfsException(IpfsException.Kind.CORRUPT, what + ": content does not match " + expected);
                    }
                    if (pending != null) {
                        out.write(pending.bytes(), 0, pending.length());
                    }
                    return;
                }
                if (pending != null) {
                    out.write(pending.bytes(), 0, pending.length());
                    free.add(pending.bytes());
                }
                pending = piece;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while sending " + what);
        } finally {
            reader.cancel(true);
            try {
                reader.get(10, TimeUnit.SECONDS); // the caller closes the stream: not while it is read
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
                // cancelled, or failed: its failure was reported through the queue
            }
        }
    }

    private static Void readAndHash(InputStream in, MessageDigest md, long expectedSize, BlockingQueue<byte[]> free,
            BlockingQueue<Piece> filled) throws InterruptedException {
        long total = 0;
        try {
            while (true) {
                byte[] buffer = free.take();
                int n = StreamCopy.readFully(in, buffer);
                if (n == 0) {
                    filled.put(new Piece(null, 0, md.digest(), total, null));
                    return null;
                }
                md.update(buffer, 0, n);
                total += n;
                if (total > expectedSize) {
                    filled.put(new Piece(null, 0, null, total, null));
                    return null;
                }
                filled.put(new Piece(buffer, n, null, total, null));
            }
        } catch (IOException | RuntimeException e) {
            IOException failure = e instanceof IOException io ? io
                    : new IpfsException(IpfsException.Kind.FAILED, "reading: " + e, e);
            filled.put(new Piece(null, 0, null, total, failure));
            return null;
        }
    }

    /** Threads reading for a copy right now. */
    int busyThreads() {
        return threads.getActiveCount();
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
