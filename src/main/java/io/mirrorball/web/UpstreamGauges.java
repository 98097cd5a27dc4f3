package io.mirrorball.web;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.mirrorball.upstream.RateLimitInfo;
import io.mirrorball.upstream.UpstreamRegistry;

/**
 * The metrics of one upstream: the counters {@code upstream.<name>.hits}, {@code .misses} and
 * {@code .errors}, the gauge {@code .up} (0 when the last contact failed or was rate limited), and the
 * gauges {@code .ratelimit.limit} and {@code .ratelimit.remaining}, the rate limit it stated last
 * (Docker Hub's {@code ratelimit-*} headers); null until it states one.
 */
final class UpstreamGauges {
    private UpstreamGauges() {
    }

    static void register(MetricRegistry metrics, UpstreamRegistry upstream) {
        String name = MetricRegistry.name("upstream", upstream.name());
        metrics.register(name + ".hits", upstream.stats().hits());
        metrics.register(name + ".misses", upstream.stats().misses());
        metrics.register(name + ".errors", upstream.stats().errors());
        metrics.register(name + ".up", (Gauge<Integer>) () -> switch (upstream.stats().state()) {
            case OK, UNKNOWN -> 1;
            case FAILING, RATE_LIMITED -> 0;
        });
        String prefix = MetricRegistry.name("upstream", upstream.name(), "ratelimit");
        metrics.register(prefix + ".limit", (Gauge<Long>) () -> upstream.rateLimit().map(RateLimitInfo::limit)
                .orElse(null));
        metrics.register(prefix + ".remaining", (Gauge<Long>) () -> upstream.rateLimit()
                .map(RateLimitInfo::remaining).orElse(null));
    }
}
