package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class RateLimitInfoTest {
    private static Optional<RateLimitInfo> parse(Map<String, String> headers) {
        return RateLimitInfo.parse(headers::get);
    }

    @Test
    void parse_dockerHubHeaders_limitRemainingWindowAndSource() {
        RateLimitInfo info = parse(Map.of("ratelimit-limit", "100;w=21600", "ratelimit-remaining", "76;w=21600",
                "docker-ratelimit-source", "192.0.2.7")).orElseThrow();
        assertEquals(100, info.limit());
        assertEquals(76, info.remaining());
        assertEquals(Duration.ofHours(6), info.window());
        assertEquals(Optional.of("192.0.2.7"), info.source());
        assertFalse(info.low());
        assertEquals("76 of 100 pulls left per 6 h (for 192.0.2.7)", info.describe());
    }

    @Test
    void parse_fewLeftWithoutWindowOrSource_lowWithZeroWindow() {
        RateLimitInfo info = parse(Map.of("ratelimit-limit", "200", "ratelimit-remaining", " 9 ")).orElseThrow();
        assertEquals(200, info.limit());
        assertEquals(9, info.remaining());
        assertEquals(Duration.ZERO, info.window());
        assertEquals(Optional.empty(), info.source());
        assertTrue(info.low());
        assertEquals("9 of 200 pulls left", info.describe());
    }

    @Test
    void parse_absentOrMalformed_empty() {
        assertTrue(parse(Map.of()).isEmpty());
        assertTrue(parse(Map.of("ratelimit-limit", "100;w=21600")).isEmpty());
        assertTrue(parse(Map.of("ratelimit-limit", "lots", "ratelimit-remaining", "1")).isEmpty());
        assertTrue(parse(Map.of("ratelimit-limit", "100;w=x", "ratelimit-remaining", "1")).isEmpty());
        assertTrue(parse(Map.of("ratelimit-limit", "-1", "ratelimit-remaining", "1")).isEmpty());
    }
}
