package io.mirrorball.ipfs.kubo;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@code add} on Kubo that takes its content piece by piece while an upload arrives: one
 * {@code POST /api/v0/add} runs on a thread of its own, and its chunked multipart body reads from a
 * small bounded queue that {@link #write} fills. So the node imports the bytes while the client
 * sends them, and completing the upload only waits for the node's answer.
 *
 * <p>Backpressure: the queue holds at most {@value #QUEUE_CHUNKS} chunks, so a node slower than the
 * client slows the upload (for at most {@code stall} per chunk, then the add fails and the caller
 * falls back to adding the spooled file). A failed or abandoned add never blocks the writer: it
 * checks the request between waits. Nothing here is a source of truth: the upload's spooled file is.
 */
final class KuboStreamingAdd implements IpfsNode.StreamingAdd {
    static final int QUEUE_CHUNKS = 8;
    private static final byte[] END = new byte[0];
    private static final long POLL_MILLIS = 200;

    /** The request body's source: the chunks {@link #write} queued, in order, until {@link #END}. */
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
    private final Duration stall;
    private final Future<IpfsNode.Added> result;
    private volatile boolean abandoned;
    private boolean ended;
    private long written;

    interface Add {
        IpfsNode.Added add(InputStream content) throws IOException;
    }

    private KuboStreamingAdd(ExecutorService threads, Add add, Duration stall) {
        this.stall = stall;
        this.result = threads.submit(() -> add.add(new QueueStream()));
    }

    /**
     * Starts {@code add} on one of {@code threads}, reading what {@link #write} gives.
     *
     * @param stall how long the node may leave one chunk untaken, and how long its answer may take
     */
    static KuboStreamingAdd start(ExecutorService threads, Add add, Duration stall) {
        return new KuboStreamingAdd(threads, add, stall);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (ended) {
            throw new IllegalStateException("the add was finished");
        }
        if (length == 0) {
            return;
        }
        byte[] chunk = new byte[length];
        System.arraycopy(bytes, offset, chunk, 0, length);
        enqueue(chunk);
        written += length;
    }

    @Override
    public IpfsNode.Added finish() throws IOException {
        if (!ended) {
            enqueue(END);
            ended = true;
        }
        IpfsNode.Added added;
        try {
            added = result.get(stall.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new InterruptedIOException("interrupted while waiting for the node's add");
        } catch (TimeoutException e) {
            close();
            throw new IpfsException(IpfsException.Kind.TIMEOUT, "ipfs add: no answer within " + stall
                    + " after the last byte");
        } catch (ExecutionException e) {
            throw failure(e);
        }
        if (added.size() != written) {
            throw new IpfsException(IpfsException.Kind.FAILED, "ipfs add: the node read " + added.size()
                    + " bytes of " + written);
        }
        return added;
    }

    @Override
    public void close() {
        if (!abandoned) {
            abandoned = true;
            queue.clear();
            result.cancel(true);
        }
    }

    /** Queues a chunk, waiting while the queue is full, for as long as the add still runs. */
    private void enqueue(byte[] chunk) throws IOException {
        if (result.isDone()) {
            throw failureOf(result);
        }
        long deadline = System.nanoTime() + stall.toNanos();
        try {
            while (!queue.offer(chunk, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (abandoned) {
                    throw new IOException("the add was abandoned");
                }
                if (result.isDone()) {
                    throw failureOf(result);
                }
                if (System.nanoTime() - deadline > 0) {
                    close();
                    throw new IpfsException(IpfsException.Kind.TIMEOUT, "ipfs add: the node took no bytes for "
                            + stall);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new InterruptedIOException("interrupted while handing bytes to the node's add");
        }
    }

    private static IOException failureOf(Future<IpfsNode.Added> done) {
        try {
            done.get();
            return new IpfsException(IpfsException.Kind.FAILED, "ipfs add: ended before its content did");
        } catch (ExecutionException e) {
            return failure(e);
        } catch (InterruptedException | java.util.concurrent.CancellationException e) {
            return new IOException("the add was abandoned");
        }
    }

    private static IOException failure(ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
            return io;
        }
        return new IpfsException(IpfsException.Kind.FAILED, "ipfs add failed: " + cause);
    }

    /** Reads the queued chunks; read ends at {@link #END} and fails once the add is abandoned. */
    private final class QueueStream extends InputStream {
        private byte[] current = new byte[0];
        private int position;
        private boolean eof;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            while (position == current.length) {
                if (eof) {
                    return -1;
                }
                byte[] next = take();
                if (next == END) {
                    eof = true;
                    return -1;
                }
                current = next;
                position = 0;
            }
            int n = Math.min(length, current.length - position);
            System.arraycopy(current, position, buffer, offset, n);
            position += n;
            return n;
        }

        private byte[] take() throws IOException {
            try {
                while (true) {
                    if (abandoned) {
                        throw new IOException("the add was abandoned");
                    }
                    byte[] next = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        return next;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("the add was abandoned");
            }
        }
    }
}
