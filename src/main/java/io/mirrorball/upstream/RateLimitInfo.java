package io.mirrorball.upstream;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * Docker Hub's pull limit as a manifest response states it: {@code ratelimit-limit: 100;w=21600} (pulls
 * per window of seconds), {@code ratelimit-remaining: 76;w=21600}, and {@code docker-ratelimit-source}
 * (the address or account counted). Hub counts manifest GETs, so these come from manifest responses.
 *
 * @param window the window of the limit, {@link Duration#ZERO} when the header names none
 * @param source who is counted, when the registry says
 */
public record RateLimitInfo(long limit, long remaining, Duration window, Optional<String> source) {
    /** Below this many remaining pulls the progress warns. */
    public static final long LOW = 10;

    /** The state from response headers ({@code header} gives a header's first value or null); empty when absent. */
    public static Optional<RateLimitInfo> parse(Function<String, String> header) {
        Optional<long[]> limit = value(header.apply("ratelimit-limit"));
        Optional<long[]> remaining = value(header.apply("ratelimit-remaining"));
        if (limit.isEmpty() || remaining.isEmpty()) {
            return Optional.empty();
        }
        long window = limit.get()[1] > 0 ? limit.get()[1] : remaining.get()[1];
        String source = header.apply("docker-ratelimit-source");
        return Optional.of(new RateLimitInfo(limit.get()[0], remaining.get()[0],
                Duration.ofSeconds(Math.max(window, 0)),
                source == null || source.isBlank() ? Optional.empty() : Optional.of(source.trim())));
    }

    /** Whether fewer than {@link #LOW} pulls are left. */
    public boolean low() {
        return remaining < LOW;
    }

    /** {@code N;w=SECONDS} (the window is optional): {count, seconds or -1}. */
    private static Optional<long[]> value(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String[] parts = text.split(";");
        try {
            long count = Long.parseLong(parts[0].trim());
            long window = -1;
            for (int i = 1; i < parts.length; i++) {
                String part = parts[i].trim();
                if (part.startsWith("w=")) {
                    window = Long.parseLong(part.substring(2).trim());
                }
            }
            return count < 0 ? Optional.empty() : Optional.of(new long[] {count, window});
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** {@code 87 of 100 pulls left per 6 h} (and the address it is counted for, when given). */
    public String describe() {
        long hours = window.toHours();
        String per = window.isZero() ? ""
                : " per " + (hours > 0 && window.equals(Duration.ofHours(hours)) ? hours + " h" : window.toSeconds() + " s");
        return remaining + " of " + limit + " pulls left" + per + source.map(s -> " (for " + s + ")").orElse("");
    }
}
