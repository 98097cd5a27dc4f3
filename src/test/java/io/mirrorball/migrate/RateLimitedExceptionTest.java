package io.mirrorball.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

final class RateLimitedExceptionTest {
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void parseRetryAfter_seconds_thatMany() {
        assertEquals(Duration.ofSeconds(37), RateLimitedException.parseRetryAfter(" 37 ", NOW));
        assertEquals(Duration.ZERO, RateLimitedException.parseRetryAfter("0", NOW));
    }

    @Test
    void parseRetryAfter_httpDate_untilThen() {
        assertEquals(Duration.ofSeconds(90), RateLimitedException.parseRetryAfter("Thu, 03 Dec 2026 12:01:30 GMT", NOW));
        assertEquals(Duration.ZERO, RateLimitedException.parseRetryAfter("Thu, 03 Dec 2026 11:00:00 GMT", NOW));
    }

    @Test
    void parseRetryAfter_absentOrNonsense_sixtySeconds() {
        assertEquals(Duration.ofSeconds(60), RateLimitedException.parseRetryAfter(null, NOW));
        assertEquals(Duration.ofSeconds(60), RateLimitedException.parseRetryAfter("", NOW));
        assertEquals(Duration.ofSeconds(60), RateLimitedException.parseRetryAfter("soon", NOW));
        assertEquals(Duration.ofSeconds(60), RateLimitedException.parseRetryAfter("99999999999999999999999", NOW));
    }

    @Test
    void rateLimited_isAMigrateExceptionOfKindRateLimited() {
        MigrateException e = new RateLimitedException("app:v1: rate limited", Duration.ofSeconds(5));
        assertEquals(FailureKind.RATE_LIMITED, e.kind());
    }
}
