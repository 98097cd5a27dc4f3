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
 * The hand-over from the thread that streams a blob from the upstream (the leader) to everyone else who
 * wants its bytes while they arrive: the IPFS add, and the clients that asked for the same blob meanwhile
 * (joiners, see {@link BlobMirror}). The bytes go to a temporary file, which each reader tails at its own
 * pace: the file is the buffer, never memory, so a slow reader slows neither the writer nor the other
 * readers, and the disk used is at most the blob's size. A reader waits for bytes that are not written yet,
 * at most {@code stall}. The end of the blob (and the end of a reader's range) is reached only after
 * {@link #finish}, which the writer calls once the bytes are verified; a failure passed to {@link #fail}
 * reaches every reader as an IOException instead, so the add fails, nothing is placed, and a joiner's body
 * ends short. The file is deleted when the writer ({@link #close}) and every reader are done with it.
 */
final class MirrorPipe implements AutoCloseable {
    private final Path file;
    private final FileChannel out;
    private final Duration stall;
    private final Object lock = new Object();
    private long written;
    private boolean finished;
    private IOException failure;
    /** The writer and every open reader; the file goes when this reaches 0. */
    private int users = 1;
    /** Open readers of a range ({@link #reader(long, long)}): joiners' clients. */
    private int joiners;

    MirrorPipe(Path dir, Duration stall) throws IOException {
        Files.createDirectories(dir);
        this.file = Files.createTempFile(dir, "mirror-", ".part");
        this.out = FileChannel.open(file, StandardOpenOption.WRITE);
        this.stall = stall;
    }

    /** Appends a chunk; false when the pipe failed (the leader's client streams on without it). */
    boolean offer(byte[] chunk, int length) {
        if (failed()) {
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

    /** Every byte is written and verified: readers may end. */
    void finish() {
        synchronized (lock) {
            finished = true;
            lock.notifyAll();
        }
    }

    void fail(IOException cause) {
        synchronized (lock) {
            if (failure == null && !finished) {
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

    /** The whole blob from its start, for the IPFS add. */
    InputStream reader() throws IOException {
        InputStream reader = open(0, Long.MAX_VALUE, false);
        if (reader == null) {
            throw new IOException("the mirror spool is closed");
        }
        return reader;
    }

    /**
     * The bytes from {@code from} up to {@code to} (exclusive; at most the end of the blob), or null when the
     * pipe is done with (the writer and every reader closed it: its file is gone). The reader's last
     * {@code read} returns -1 only once the writer verified the blob, and throws the writer's failure
     * instead. Close it when done.
     */
    InputStream reader(long from, long to) throws IOException {
        return open(from, to, true);
    }

    /** Whether a joiner's client reads the pipe now. */
    boolean hasJoiners() {
        synchronized (lock) {
            return joiners > 0;
        }
    }

    private InputStream open(long from, long to, boolean joiner) throws IOException {
        synchronized (lock) {
            if (users == 0) {
                return null;
            }
            users++;
            if (joiner) {
                joiners++;
            }
        }
        FileChannel in;
        try {
            in = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            release(joiner);
            throw e;
        }
        return new Reader(in, from, to, joiner);
    }

    private final class Reader extends InputStream {
        private final FileChannel in;
        private final long to;
        private final boolean joiner;
        private long position;
        private boolean closed;

        Reader(FileChannel in, long from, long to, boolean joiner) {
            this.in = in;
            this.joiner = joiner;
            this.position = from;
            this.to = to;
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
            long available;
            synchronized (lock) {
                long deadline = System.nanoTime() + stall.toNanos();
                while (failure == null && !finished && (position >= written || position >= to)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IOException("no bytes from the upstream for " + stall);
                    }
                    try {
                        lock.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while reading the mirror spool");
                    }
                }
                if (failure != null) {
                    throw failure;
                }
                if (position >= written || position >= to) {
                    return -1;
                }
                available = Math.min(written, to) - position;
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
            if (closed) {
                return;
            }
            closed = true;
            try {
                in.close();
            } finally {
                release(joiner);
            }
        }
    }

    private void release(boolean joiner) throws IOException {
        boolean last;
        synchronized (lock) {
            if (joiner) {
                joiners--;
            }
            last = --users == 0;
        }
        if (last) {
            Files.deleteIfExists(file);
        }
    }

    /** The writer is done; the file goes now, or when the last reader closes. */
    @Override
    public void close() throws IOException {
        fail(new IOException("the upstream fetch ended before the blob was verified"));  // no-op after finish
        try {
            out.close();
        } finally {
            release(false);
        }
    }
}
