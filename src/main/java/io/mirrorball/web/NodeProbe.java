package io.mirrorball.web;

import io.mirrorball.ipfs.IpfsAccessDeniedException;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks the IPFS node for its version (Kubo: {@code /api/v0/version}; the embedded node answers at
 * once) and waits at most {@link #TIMEOUT}. Probes that arrive while one is running wait for that
 * one, so a hung node ties up one thread however often {@code /readyz} is asked.
 */
final class NodeProbe implements AutoCloseable {
    /** A node that takes longer than this to answer is not ready. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    /** The outcome: ok, and a short reason when not (never a URL or a path). */
    record Result(boolean ok, String detail) {
    }

    private final IpfsNode node;
    private final Duration timeout;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(Gateway.named("mirrorball-readiness"));
    private Future<String> running;

    NodeProbe(IpfsNode node, Duration timeout) {
        this.node = node;
        this.timeout = timeout;
    }

    Result probe() {
        Future<String> probe = current();
        try {
            probe.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Result(true, "");
        } catch (TimeoutException e) {
            return new Result(false, "no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted");
        } catch (ExecutionException e) {
            return new Result(false, reason(e.getCause()));
        }
    }

    private synchronized Future<String> current() {
        if (running == null || running.isDone()) {
            running = thread.submit(node::version);
        }
        return running;
    }

    private static String reason(Throwable failure) {
        if (failure instanceof IpfsAccessDeniedException) {
            return "the node refused the credentials";
        }
        if (failure instanceof IpfsException e) {
            return switch (e.kind()) {
                case UNAVAILABLE -> "the node cannot be reached";
                case TIMEOUT -> "the node timed out";
                default -> "the node answered with an error";
            };
        }
        return "the node cannot be reached";
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
