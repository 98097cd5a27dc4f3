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
 * Writes one import into a blob file ({@link BlobFiles}): the leaves are appended to a temp data
 * file by a writer thread, so that hashing the next chunk overlaps writing the previous ones;
 * {@link #BUFFERS} chunk buffers circulate and the importer waits when all are in use
 * (backpressure), so an import holds at most that many chunks. The leaves' digests (32 bytes a
 * leaf) are kept for the index; dag-pb nodes go to the small-block store. A file of one chunk is
 * a single raw leaf with no node: it goes to the small-block store too. Used for one import.
 */
final class BlobFileWriter implements Importer.BlockSink, AutoCloseable {
    /** One being filled and hashed, one queued, one being written, one spare: measured in docs/storage-engine.md (3p). */
    static final int BUFFERS = 4;
    private static final Job END = new Job(null, 0);

    private final BlobFiles blobs;
    private final Blockstore smallBlocks;
    private final Path temp;
    private final FileChannel channel;
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Job> jobs = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final Future<?> task;
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
        this.channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[Importer.CHUNK]);
        }
        Future<?> started;
        try {
            started = threads.submit(this::writeLoop);
        } catch (RuntimeException e) {
            channel.close();
            Files.deleteIfExists(temp);
            throw new IpfsException(IpfsException.Kind.UNAVAILABLE, "embedded IPFS node is closing", e);
        }
        this.task = started;
    }

    private Void writeLoop() throws InterruptedException {
        while (true) {
            Job job = jobs.take();
            if (job == END) {
                return null;
            }
            if (failure == null) {
                try {
                    ByteBuffer buffer = ByteBuffer.wrap(job.block, 0, job.length);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
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
                if (task.isDone()) {
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
    public void put(byte[] digest, byte[] block, int length) throws IOException {
        checkFailure();
        if (block.length != Importer.CHUNK) {
            throw new IllegalArgumentException("leaf not in a chunk buffer of this writer");
        }
        if (32 * (leaves + 1) > digests.length) {
            digests = Arrays.copyOf(digests, digests.length * 2);
        }
        System.arraycopy(digest, 0, digests, 32 * leaves, 32);
        leaves++;
        enqueue(new Job(block, length));
    }

    @Override
    public void putNode(byte[] digest, byte[] block) throws IOException {
        nodes.add(digest);
        smallBlocks.putImportNode(digest, block);
    }

    @Override
    public void finish(Cid root, long size) throws IOException {
        end();
        try {
            task.get(10, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the blob file writer");
        } catch (ExecutionException | TimeoutException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "blob file writer failed: " + e, e);
        }
        checkFailure();
        channel.close();
        smallBlocks.refresh(nodes); // written over the whole import: all young for gc's grace from now on
        if (leaves == 1) {
            byte[] leaf = Files.readAllBytes(temp); // one chunk at most
            smallBlocks.put(root.sha256Digest(), leaf, leaf.length);
            Files.deleteIfExists(temp);
        } else {
            smallBlocks.commitBlob(root.sha256Digest(), temp, size, Arrays.copyOf(digests, 32 * leaves));
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
