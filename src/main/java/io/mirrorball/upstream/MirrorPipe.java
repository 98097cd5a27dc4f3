package io.mirrorball.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded hand-over of chunks from the thread that streams a blob to the client to the thread that
 * adds it to IPFS. When the IPFS side is slower than the client the writer waits (at most
 * {@code stall}); when the IPFS side has given up, {@link #offer} returns false and the client keeps
 * streaming without the mirror. A failure passed to {@link #fail} reaches the reader as an IOException,
 * so the add fails and nothing is placed.
 */
final class MirrorPipe {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue;
    private final Duration stall;
    private volatile boolean readerGone;
    private volatile IOException failure;

    MirrorPipe(int chunks, Duration stall) {
        this.queue = new ArrayBlockingQueue<>(chunks);
        this.stall = stall;
    }

    /** Hands over a copy of the chunk; false when the reader is gone or stalled too long. */
    boolean offer(byte[] chunk, int length) {
        return put(java.util.Arrays.copyOf(chunk, length));
    }

    void finish() {
        put(END);
    }

    void fail(IOException cause) {
        failure = cause;
        queue.clear();
        queue.offer(END);
    }

    private boolean put(byte[] item) {
        long deadline = System.nanoTime() + stall.toNanos();
        try {
            while (!readerGone) {
                if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    fail(new IOException("the IPFS add stalled for more than " + stall));
                    return false;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** The reading end, for the IPFS add. Closing it tells the writer to stop handing over. */
    InputStream reader() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int position;
            private boolean ended;

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
                while (position == current.length) {
                    if (ended) {
                        return -1;
                    }
                    byte[] next;
                    try {
                        next = queue.poll(stall.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while mirroring");
                    }
                    if (failure != null) {
                        throw failure;
                    }
                    if (next == null) {
                        throw new IOException("no bytes from the upstream stream for " + stall);
                    }
                    if (next == END) {
                        ended = true;
                        return -1;
                    }
                    current = next;
                    position = 0;
                }
                int n = Math.min(len, current.length - position);
                System.arraycopy(current, position, b, off, n);
                position += n;
                return n;
            }

            @Override
            public void close() {
                readerGone = true;
                queue.clear();
            }
        };
    }
}
