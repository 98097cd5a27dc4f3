package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.IpfsException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Writes an import's blocks on other threads, so that hashing the next chunk overlaps writing the
 * previous ones. {@code THREADS + 2} chunk buffers circulate: one being filled and hashed by the
 * importer, one queued, one being written by each writer thread; the importer waits when all are in
 * use (backpressure), so an import never holds more than that many chunks. Used for one import, then
 * closed.
 */
final class BlockWriter implements Importer.BlockSink, AutoCloseable {
    /**
     * Two writers: creating a block file costs the kernel 0.3-1 ms of CPU on ext4 (more when many
     * inodes were freed recently), more than writing its bytes, so one writer left the second core
     * idle while the importer hashed. Measured on 2 cores: see tests/bench/embedded-import.sh.
     */
    private static final int THREADS = 2;
    private static final int BUFFERS = THREADS + 2;
    private static final Job END = new Job(null, null, 0, false);

    private final Blockstore store;
    private final byte[][] pool = new byte[BUFFERS][];
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Job> jobs = new ArrayBlockingQueue<>(BUFFERS + 8);
    private final List<Future<?>> tasks = new ArrayList<>(THREADS);
    private volatile IOException failure;
    private boolean ended;

    private record Job(byte[] digest, byte[] block, int length, boolean pooled) {
    }

    BlockWriter(Blockstore store, ExecutorService executor) {
        this.store = store;
        for (int i = 0; i < BUFFERS; i++) {
            pool[i] = new byte[Importer.CHUNK];
            free.add(pool[i]);
        }
        for (int i = 0; i < THREADS; i++) {
            tasks.add(executor.submit(this::writeLoop));
        }
    }

    private Void writeLoop() throws InterruptedException {
        while (true) {
            Job job = jobs.take();
            if (job == END) {
                return null;
            }
            if (failure == null) {
                try {
                    store.put(job.digest, job.block, job.length);
                } catch (IOException | RuntimeException e) {
                    failure = e instanceof IOException io ? io
                            : new IpfsException(IpfsException.Kind.FAILED, "writing block: " + e, e);
                }
            }
            if (job.pooled) {
                free.add(job.block);
            }
        }
    }

    @Override
    public byte[] chunkBuffer() throws IOException {
        try {
            while (true) {
                checkFailure();
                byte[] buffer = free.poll(100, TimeUnit.MILLISECONDS);
                if (buffer != null) {
                    return buffer;
                }
                if (tasks.stream().allMatch(Future::isDone)) {
                    checkFailure();
                    throw new IpfsException(IpfsException.Kind.FAILED, "block writer stopped");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the block writer");
        }
    }

    @Override
    public void put(byte[] digest, byte[] block, int length) throws IOException {
        checkFailure();
        boolean pooled = false;
        for (byte[] buffer : pool) {
            pooled |= buffer == block;
        }
        enqueue(new Job(digest, block, length, pooled));
    }

    @Override
    public void finish() throws IOException {
        end();
        try {
            for (Future<?> task : tasks) {
                task.get(10, TimeUnit.MINUTES);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the block writer");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "block writer failed: " + e, e);
        }
        checkFailure();
    }

    /** Stops the writer after the queued blocks (an import that failed leaves no thread behind). */
    @Override
    public void close() {
        try {
            end();
        } catch (IOException interrupted) {
            // enqueue cancelled the writers already
        }
    }

    private void end() throws IOException {
        if (!ended) {
            ended = true;
            for (int i = 0; i < THREADS; i++) {
                enqueue(END);
            }
        }
    }

    private void enqueue(Job job) throws IOException {
        try {
            jobs.put(job);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tasks.forEach(task -> task.cancel(true));
            throw new InterruptedIOException("interrupted while queueing a block");
        }
    }

    private void checkFailure() throws IOException {
        IOException e = failure;
        if (e != null) {
            throw new IpfsException(IpfsException.Kind.FAILED, "writing a block failed: " + e.getMessage(), e);
        }
    }
}
