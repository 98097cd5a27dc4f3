package io.mirrorball.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class RetryPolicyTest {
    private final RecordingProgress progress = new RecordingProgress();
    /** Waits are scaled to a millionth: a 60 s wait takes 60 µs. */
    private final RetryPolicy retry = new RetryPolicy(Duration.ofMinutes(15), 1e-6, progress);

    @Test
    void call_429WithRetryAfter_waitsThatLongThenSucceeds() throws Exception {
        AtomicInteger calls = new AtomicInteger();

        String result = retry.call("registry.example", () -> {
            if (calls.incrementAndGet() < 3) {
                throw new MigrateException(FailureKind.RATE_LIMITED, "app:1: 429").withRetryAfter(Duration.ofSeconds(37));
            }
            return "ok";
        });

        assertEquals("ok", result);
        assertEquals(3, calls.get());
        assertEquals(List.of("registry.example 37 s", "registry.example 37 s"), progress.waits);
    }

    @Test
    void call_429WithoutRetryAfter_waitsAMinute() throws Exception {
        AtomicInteger calls = new AtomicInteger();

        retry.call("h", () -> {
            if (calls.incrementAndGet() == 1) {
                throw new MigrateException(FailureKind.RATE_LIMITED, "429");
            }
            return null;
        });

        assertEquals(List.of("h 60 s"), progress.waits);
    }

    @Test
    void call_rateLimitedPastMaxWait_failsRateLimited() {
        RetryPolicy short_ = new RetryPolicy(Duration.ofSeconds(90), 1e-6, progress);
        AtomicInteger calls = new AtomicInteger();

        MigrateException e = assertThrows(MigrateException.class, () -> short_.call("h", () -> {
            calls.incrementAndGet();
            throw new MigrateException(FailureKind.RATE_LIMITED, "app:1: 429").withRetryAfter(Duration.ofSeconds(60));
        }));

        assertEquals(FailureKind.RATE_LIMITED, e.kind());
        assertEquals(2, calls.get(), "60 s waited once; a second 60 s would pass 90 s");
        assertTrue(e.getMessage().contains("--max-retry-wait"), e.getMessage());
    }

    @Test
    void call_unreachable_triesSixTimesWithGrowingBackoff() {
        AtomicInteger calls = new AtomicInteger();

        MigrateException e = assertThrows(MigrateException.class, () -> retry.call("h", () -> {
            calls.incrementAndGet();
            throw new MigrateException(FailureKind.UNREACHABLE, "connection refused");
        }));

        assertEquals(FailureKind.UNREACHABLE, e.kind());
        assertEquals(RetryPolicy.ATTEMPTS, calls.get());
        List<Long> seconds = progress.waitSeconds;
        assertEquals(RetryPolicy.ATTEMPTS - 1, seconds.size());
        for (int i = 1; i < seconds.size(); i++) {
            assertTrue(seconds.get(i) >= seconds.get(i - 1), "backoff grows: " + seconds);
        }
        assertTrue(seconds.get(seconds.size() - 1) <= 72, "capped at 60 s + 20 %: " + seconds);
    }

    @Test
    void call_otherFailure_isNotRepeated() {
        AtomicInteger calls = new AtomicInteger();

        assertThrows(MigrateException.class, () -> retry.call("h", () -> {
            calls.incrementAndGet();
            throw new MigrateException(FailureKind.NOT_FOUND, "no such tag");
        }));

        assertEquals(1, calls.get());
    }

    /** Records the waits it is told about. */
    static final class RecordingProgress implements Progress {
        final List<String> waits = new CopyOnWriteArrayList<>();
        final List<Long> waitSeconds = new CopyOnWriteArrayList<>();

        @Override
        public void imagePlanned(String source, int blobs, long bytes) {
        }

        @Override
        public void planningDone() {
        }

        @Override
        public void blobStarted(String image, io.mirrorball.oci.Digest digest, long size, long offset) {
        }

        @Override
        public void blobBytes(io.mirrorball.oci.Digest digest, long bytes) {
        }

        @Override
        public void blobDone(io.mirrorball.oci.Digest digest, long size, boolean skipped) {
        }

        @Override
        public void blobFailed(io.mirrorball.oci.Digest digest, String reason) {
        }

        @Override
        public void waiting(String host, Duration wait, String reason) {
            waits.add(host + " " + wait.toSeconds() + " s");
            waitSeconds.add(wait.toSeconds());
        }

        @Override
        public void warning(String message) {
        }

        @Override
        public void imageDone(ImageResult result) {
        }

        @Override
        public void imageFailed(ImageFailure failure) {
        }

        @Override
        public void close() {
        }
    }
}
