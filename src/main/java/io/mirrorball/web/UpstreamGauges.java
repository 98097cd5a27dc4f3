package io.mirrorball.web;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.mirrorball.upstream.RateLimitInfo;
import io.mirrorball.upstream.UpstreamRegistry;

/**
 * The gauges of one upstream: {@code upstream.<name>.ratelimit.limit} and {@code .remaining}, the rate
 * limit it stated last (Docker Hub's {@code ratelimit-*} headers); null until it states one.
 */
final class UpstreamGauges {
    private UpstreamGauges() {
    }

    static void register(MetricRegistry metrics, UpstreamRegistry upstream) {
        String prefix = MetricRegistry.name("upstream", upstream.name(), "ratelimit");
        metrics.register(prefix + ".limit", (Gauge<Long>) () -> upstream.rateLimit().map(RateLimitInfo::limit)
                .orElse(null));
        metrics.register(prefix + ".remaining", (Gauge<Long>) () -> upstream.rateLimit()
                .map(RateLimitInfo::remaining).orElse(null));
    }
}
