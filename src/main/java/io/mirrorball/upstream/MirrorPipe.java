package io.mirrorball.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * The hand-over from the thread that streams a blob to the client to the thread that adds it to IPFS,
 * through a temporary file that the IPFS side reads behind the writer. The client is therefore paced by
 * the upstream and itself only (never by IPFS, which is often slower), memory stays bounded, and the
 * client still gets its first bytes at once: this is a tee, not a spool-first. The reader waits for
 * bytes that are not written yet, at most {@code stall}. A failure passed to {@link #fail} reaches the
 * reader as an IOException, so the add fails and nothing is placed. {@link #close} deletes the file.
 */
final class MirrorPipe implements AutoCloseable {
    private final Path file;
    private final FileChannel out;
    private final Duration stall;
    private final Object lock = new Object();
    private long written;
    private boolean finished;
    private IOException failure;
    private volatile boolean readerGone;

    MirrorPipe(Path dir, Duration stall) throws IOException {
        Files.createDirectories(dir);
        this.file = Files.createTempFile(dir, "mirror-", ".part");
        this.out = FileChannel.open(file, StandardOpenOption.WRITE);
        this.stall = stall;
    }

    /** Appends a chunk; false when the reader is gone or the pipe failed (the client streams on without it). */
    boolean offer(byte[] chunk, int length) {
        if (readerGone || failed()) {
            return false;
        }
        try {
            ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, length);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
        } catch (IOException e) {
            fail(e);
            return false;
        }
        synchronized (lock) {
            written += length;
            lock.notifyAll();
        }
        return true;
    }

    void finish() {
        synchronized (lock) {
            finished = true;
            lock.notifyAll();
        }
    }

    void fail(IOException cause) {
        synchronized (lock) {
            if (failure == null) {
                failure = cause;
            }
            lock.notifyAll();
        }
    }

    private boolean failed() {
        synchronized (lock) {
            return failure != null;
        }
    }

    /** The reading end, for the IPFS add. Closing it tells the writer to stop. */
    InputStream reader() throws IOException {
        FileChannel in = FileChannel.open(file, StandardOpenOption.READ);
        return new InputStream() {
            private long position;

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
                long available;
                synchronized (lock) {
                    long deadline = System.nanoTime() + stall.toNanos();
                    while (failure == null && position == written && !finished) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new IOException("no bytes from the upstream for " + stall);
                        }
                        try {
                            lock.wait(Math.max(1, left / 1_000_000));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException("interrupted while mirroring");
                        }
                    }
                    if (failure != null) {
                        throw failure;
                    }
                    if (position == written) {
                        return -1;
                    }
                    available = written - position;
                }
                int n = in.read(ByteBuffer.wrap(b, off, (int) Math.min(len, available)), position);
                if (n < 0) {
                    throw new IOException("mirror spool file ended early");
                }
                position += n;
                return n;
            }

            @Override
            public void close() throws IOException {
                readerGone = true;
                in.close();
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
