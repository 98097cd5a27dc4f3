package io.mirrorball.migrate;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * The source answered 429: a {@link FailureKind#RATE_LIMITED} failure that says how long to wait
 * ({@link #retryAfter()}, always present here) before asking again. The copy engine waits that long (closing the host's gate)
 * and fails the image only when the wait is over {@code --max-retry-wait}.
 */
public final class RateLimitedException extends MigrateException {
    private static final long serialVersionUID = 1L;
    /** The wait when a 429 names none (or nonsense). */
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);

    public RateLimitedException(String message, Duration retryAfter) {
        super(FailureKind.RATE_LIMITED, message);
        withRetryAfter(Objects.requireNonNull(retryAfter, "retryAfter"));
    }

    /**
     * A {@code Retry-After} value: delta-seconds or an HTTP date (a date in the past is no wait);
     * {@link #DEFAULT_WAIT} when absent or unreadable.
     */
    public static Duration parseRetryAfter(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return DEFAULT_WAIT;
        }
        String text = value.trim();
        if (text.chars().allMatch(Character::isDigit)) {
            try {
                return Duration.ofSeconds(Long.parseLong(text));
            } catch (NumberFormatException e) {
                return DEFAULT_WAIT;
            }
        }
        try {
            Instant at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration wait = Duration.between(now, at);
            return wait.isNegative() ? Duration.ZERO : wait;
        } catch (DateTimeParseException e) {
            return DEFAULT_WAIT;
        }
    }
}
