package io.mirrorball.migrate;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a call to a source or destination is tried again, and how long to wait.
 * <ul>
 *   <li>{@code RATE_LIMITED} (a 429) waits its Retry-After, or 60 s without one, and pauses every job
 *       that talks to that host (the host's gate closes until then), so a rate-limited registry sees
 *       one retry, not {@code --jobs} of them.</li>
 *   <li>{@code UNREACHABLE} (refused, reset, timed out, 502/503/504) backs off from 1 s, doubling up to
 *       60 s, with 20 % jitter, at most {@link #ATTEMPTS} tries.</li>
 *   <li>A wait that would take the call's waiting past {@code maxWait} fails it as {@code RATE_LIMITED}.</li>
 * </ul>
 * Anything else fails at once: it would fail again. {@code scale} shrinks every wait (tests only).
 */
public final class RetryPolicy {
    static final int ATTEMPTS = 6;
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    private static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(60);

    /** One call to retry. */
    public interface Call<T> {
        T run() throws IOException;
    }

    private final Duration maxWait;
    private final double scale;
    private final Progress progress;
    private final Map<String, Long> gates = new ConcurrentHashMap<>();

    public RetryPolicy(Duration maxWait, double scale, Progress progress) {
        this.maxWait = maxWait;
        this.scale = scale;
        this.progress = progress;
    }

    /** Runs {@code call} against {@code host}, trying again as described above. */
    public <T> T call(String host, Call<T> call) throws IOException {
        Duration waited = Duration.ZERO;
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            awaitGate(host);
            try {
                return call.run();
            } catch (MigrateException e) {
                Duration wait;
                if (e.kind() == FailureKind.RATE_LIMITED) {
                    wait = e.retryAfter().orElse(DEFAULT_RETRY_AFTER);
                    if (waited.plus(wait).compareTo(maxWait) > 0) {
                        throw new MigrateException(FailureKind.RATE_LIMITED, e.getMessage() + " (asked to wait "
                                + wait.toSeconds() + " s more, over --max-retry-wait " + maxWait.toSeconds() + " s)");
                    }
                    closeGate(host, wait);
                    progress.waiting(host, wait, "429 Too Many Requests");
                } else if (e.kind() == FailureKind.UNREACHABLE && attempt < ATTEMPTS) {
                    wait = e.retryAfter().orElse(jittered(backoff));
                    backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
                    if (waited.plus(wait).compareTo(maxWait) > 0) {
                        throw e;
                    }
                    progress.waiting(host, wait, e.getMessage());
                } else {
                    throw e;
                }
                waited = waited.plus(wait);
                sleep(wait);
            }
        }
    }

    /**
     * Waits before continuing a blob that was cut off: {@code attempt} seconds, so that the
     * destination has noticed the broken request and released the upload before it is asked again.
     */
    void pauseBeforeResuming(int attempt) throws IOException {
        sleep(Duration.ofSeconds(attempt));
    }

    private static Duration jittered(Duration base) {
        double factor = 0.8 + ThreadLocalRandom.current().nextDouble() * 0.4;
        return Duration.ofMillis((long) (base.toMillis() * factor));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private void closeGate(String host, Duration wait) {
        long until = System.nanoTime() + scaled(wait).toNanos();
        gates.merge(host, until, Math::max);
    }

    private void awaitGate(String host) throws IOException {
        Long until = gates.get(host);
        if (until != null) {
            long left = until - System.nanoTime();
            if (left > 0) {
                sleepNanos(left);
            }
        }
    }

    private Duration scaled(Duration wait) {
        return Duration.ofNanos((long) (wait.toNanos() * scale));
    }

    private void sleep(Duration wait) throws IOException {
        sleepNanos(scaled(wait).toNanos());
    }

    private static void sleepNanos(long nanos) throws IOException {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to try again");
        }
    }
}
