package io.mirrorball.upstream;

import io.mirrorball.store.BlobInfo;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One upstream fetch of a blob in flight, as its joiners see it: the spool its bytes go to once the leader
 * knows the blob's length ({@link #spool}), and the leader's result ({@link #outcome}: the blob in IPFS,
 * null when it was not mirrored, or the leader's failure).
 */
final class BlobFlight {
    /** The leader's spool and the blob's length, verified against its descriptor. */
    record Spool(MirrorPipe pipe, long size) {
    }

    private final CompletableFuture<Spool> spool = new CompletableFuture<>();
    private final CompletableFuture<BlobInfo> outcome = new CompletableFuture<>();

    /** The leader's bytes now go to {@code pipe}. */
    void started(MirrorPipe pipe, long size) {
        spool.complete(new Spool(pipe, size));
    }

    /** The leader is done (its spool, if any, may still be read by the joiners that have it). */
    void succeeded(BlobInfo stored) {
        spool.complete(null);
        outcome.complete(stored);
    }

    void failed(Throwable cause) {
        spool.complete(null);
        outcome.completeExceptionally(cause);
    }

    /**
     * Waits for the leader to start streaming; null when it ended without a spool (it failed first, or did
     * not mirror).
     */
    Spool awaitSpool(Duration timeout) throws InterruptedIOException, TimeoutException {
        return await(spool, timeout);
    }

    /** The leader's result; throws its failure as the cause of an ExecutionException. */
    BlobInfo awaitOutcome(Duration timeout) throws InterruptedIOException, TimeoutException, ExecutionException {
        try {
            return outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the fetch in flight");
        }
    }

    private static <T> T await(CompletableFuture<T> future, Duration timeout)
            throws InterruptedIOException, TimeoutException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the fetch in flight");
        } catch (ExecutionException e) {
            return null;  // never completed exceptionally
        }
    }
}
