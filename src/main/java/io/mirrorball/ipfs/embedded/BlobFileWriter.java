package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes one import into a blob file ({@link BlobFiles}) in a pipeline of three threads: the
 * importer's caller copies the content into chunk buffers, a hasher thread computes each leaf's
 * SHA-256, and a writer thread appends the leaf to a temp data file. On two cores the hashing (the
 * import's real cost) then overlaps both the caller's reading (for an upload: receiving, spooling
 * and the blob digest) and the writing. {@link #BUFFERS} chunk buffers circulate and the caller
 * waits when all are in use (backpressure), so an import holds at most that many chunks. The
 * leaves' digests (32 bytes a leaf) are kept for the index and the tree, which the importer builds
 * at the end ({@link Importer.HashingSink}); dag-pb nodes go to the small-block store. A file of
 * one chunk is a single raw leaf with no node: it goes to the small-block store too. Used for one
 * import.
 */
final class BlobFileWriter implements Importer.HashingSink, AutoCloseable {
    /** One being filled, one being hashed, one being written, the rest queued between the stages. */
    static final int BUFFERS = 6;
    private static final Job END = new Job(null, 0);
    /**
     * Flush-behind: after this many bytes, the writer has the kernel write what it wrote so far
     * (an fsync on another thread, while it goes on), so that the commit's fsync has little left to
     * do. Measured in docs/storage-engine.md ((3f): the commit then takes 0.3-0.8 s per GiB, not 1.1-1.6).
     */
    static final long FLUSH_EVERY = 64L * 1024 * 1024;

    private final BlobFiles blobs;
    private final Blockstore smallBlocks;
    private final Path temp;
    private final FileChannel channel;
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Job> jobs = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final BlockingQueue<Job> hashed = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final Future<?> hasher;
    private final Future<?> task;
    private final ExecutorService threads;
    /** The flush-behind in progress; only the writer thread starts one. */
    private volatile Future<?> flushing;
    private byte[] digests = new byte[32 * 64];
    private int leaves;
    private volatile IOException failure;
    private boolean ended;
    private boolean committed;
    /** The dag-pb nodes written so far: gc keeps them until the import ends (see {@link Blockstore#putImportNode}). */
    private final java.util.List<byte[]> nodes = new java.util.ArrayList<>();

    private record Job(byte[] block, int length) {
    }

    BlobFileWriter(BlobFiles blobs, Blockstore smallBlocks, Path temp, ExecutorService threads) throws IOException {
        this.blobs = blobs;
        this.smallBlocks = smallBlocks;
        this.temp = temp;
        this.threads = threads;
        this.channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[Importer.CHUNK]);
        }
        Future<?> hashing = null;
        Future<?> writing;
        try {
            hashing = threads.submit(this::hashLoop);
            writing = threads.submit(this::writeLoop);
        } catch (RuntimeException e) {
            if (hashing != null) {
                hashing.cancel(true);
            }
            channel.close();
            Files.deleteIfExists(temp);
            throw new IpfsException(IpfsException.Kind.UNAVAILABLE, "embedded IPFS node is closing", e);
        }
        this.hasher = hashing;
        this.task = writing;
    }

    /** Hashes each leaf in order and passes it on to the writer. */
    private Void hashLoop() throws InterruptedException {
        java.security.MessageDigest sha256 = BlobFiles.newSha256();
        while (true) {
            Job job = jobs.take();
            if (job != END) {
                sha256.update(job.block, 0, job.length);
                byte[] digest = sha256.digest();
                synchronized (this) {
                    if (32 * (leaves + 1) > digests.length) {
                        digests = Arrays.copyOf(digests, digests.length * 2);
                    }
                    System.arraycopy(digest, 0, digests, 32 * leaves, 32);
                    leaves++;
                }
            }
            hashed.put(job);
            if (job == END) {
                return null;
            }
        }
    }

    private Void flushBehind() {
        try {
            channel.force(false);
        } catch (IOException e) {
            if (failure == null && channel.isOpen()) {
                failure = e;
            }
        }
        return null;
    }

    private Void writeLoop() throws InterruptedException {
        long written = 0;
        long flushedAt = 0;
        while (true) {
            Job job = hashed.take();
            if (job == END) {
                return null;
            }
            if (failure == null) {
                try {
                    ByteBuffer buffer = ByteBuffer.wrap(job.block, 0, job.length);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                    written += job.length;
                    if (written - flushedAt >= FLUSH_EVERY && (flushing == null || flushing.isDone())) {
                        flushedAt = written;
                        flushing = threads.submit(this::flushBehind);
                    }
                } catch (IOException | RuntimeException e) {
                    failure = e instanceof IOException io ? io
                            : new IpfsException(IpfsException.Kind.FAILED, "writing a blob file: " + e, e);
                }
            }
            free.add(job.block);
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
                if (task.isDone() || hasher.isDone()) {
                    checkFailure();
                    throw new IpfsException(IpfsException.Kind.FAILED, "blob file writer stopped");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the blob file writer");
        }
    }

    @Override
    public void putUnhashed(byte[] block, int length) throws IOException {
        checkFailure();
        if (block.length != Importer.CHUNK) {
            throw new IllegalArgumentException("leaf not in a chunk buffer of this writer");
        }
        enqueue(new Job(block, length));
    }

    /** Not used: the importer hands this sink its leaves unhashed ({@link #putUnhashed}). */
    @Override
    public void put(byte[] digest, byte[] block, int length) throws IOException {
        putUnhashed(block, length);
    }

    @Override
    public byte[] leafDigests() throws IOException {
        end();
        try {
            hasher.get(10, TimeUnit.MINUTES);
            task.get(10, TimeUnit.MINUTES);
            Future<?> flush = flushing;
            if (flush != null) {
                flush.get(10, TimeUnit.MINUTES);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the blob file writer");
        } catch (ExecutionException | TimeoutException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "blob file writer failed: " + e, e);
        }
        checkFailure();
        synchronized (this) {
            return Arrays.copyOf(digests, 32 * leaves);
        }
    }

    @Override
    public void putNode(byte[] digest, byte[] block) throws IOException {
        nodes.add(digest);
        smallBlocks.putImportNode(digest, block);
    }

    @Override
    public void finish(Cid root, long size) throws IOException {
        byte[] all = leafDigests();
        channel.close();
        smallBlocks.refresh(nodes); // all young for gc's grace from now on, however long the import took
        if (all.length == 32) {
            byte[] leaf = Files.readAllBytes(temp); // one chunk at most
            smallBlocks.put(root.sha256Digest(), leaf, leaf.length);
            Files.deleteIfExists(temp);
        } else {
            smallBlocks.commitBlob(root.sha256Digest(), temp, size, all);
        }
        committed = true;
    }

    /** Stops the writer; an import that did not finish leaves no thread and no file behind. */
    @Override
    public void close() {
        smallBlocks.importEnded(nodes);
        nodes.clear(); // closed twice: released once
        try {
            end();
        } catch (IOException interrupted) {
            // enqueue cancelled the writer already
        }
        if (!committed) {
            try {
                hasher.get(1, TimeUnit.MINUTES);
                task.get(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
                // the temp file goes below either way
            }
            try {
                channel.close();
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // what is left in .tmp is deleted at the next open
            }
        }
    }

    private void end() throws IOException {
        if (!ended) {
            ended = true;
            enqueue(END);
        }
    }

    private void enqueue(Job job) throws IOException {
        try {
            jobs.put(job);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            hasher.cancel(true);
            task.cancel(true);
            throw new InterruptedIOException("interrupted while queueing a leaf");
        }
    }

    private void checkFailure() throws IOException {
        IOException e = failure;
        if (e != null) {
            throw new IpfsException(IpfsException.Kind.FAILED, "writing a blob file failed: " + e.getMessage(), e);
        }
    }
}
