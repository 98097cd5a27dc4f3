package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class PrometheusExportTest {
    private final MetricRegistry metrics = new MetricRegistry();

    private PrometheusText scrape() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out,
                PrometheusExport.registry(metrics, () -> List.of("docker.io", "127.0.0.1:5000", "ghcr")).scrape());
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    /** The client's exporter refuses two Dropwizard metrics that map to one family (client_java issue 1712). */
    @Test
    void collect_routesOfOneFamily_mergedWithTheirLabels() throws Exception {
        metrics.timer("http.manifest.2xx").update(2, TimeUnit.SECONDS);
        metrics.timer("http.manifest.2xx").update(4, TimeUnit.SECONDS);
        metrics.timer("http.blob.4xx").update(1, TimeUnit.MILLISECONDS);
        PrometheusText text = scrape();
        text.require("mirrorball_http_requests_seconds", "summary");
        assertEquals(2, text.value("mirrorball_http_requests_seconds_count",
                Map.of("route", "manifest", "status", "2xx")));
        assertEquals(1, text.value("mirrorball_http_requests_seconds_count", Map.of("route", "blob", "status", "4xx")));
        assertEquals(4.0, text.value("mirrorball_http_requests_seconds",
                Map.of("route", "manifest", "status", "2xx", "quantile", "0.99")), 0.01);
    }

    @Test
    void collect_upstreamNamesWithDots_oneLabelValue() throws Exception {
        metrics.counter("upstream.docker.io.hits").inc(3);
        metrics.counter("upstream.127.0.0.1:5000.misses").inc(2);
        metrics.counter("upstream.ghcr.errors").inc();
        metrics.register("upstream.docker.io.ratelimit.remaining", (Gauge<Long>) () -> 97L);
        metrics.register("upstream.ghcr.ratelimit.remaining", (Gauge<Long>) () -> null);
        PrometheusText text = scrape();
        assertEquals(3, text.value("mirrorball_upstream_hits_total", Map.of("upstream", "docker.io")));
        assertEquals(2, text.value("mirrorball_upstream_misses_total", Map.of("upstream", "127.0.0.1:5000")));
        assertEquals(1, text.value("mirrorball_upstream_errors_total", Map.of("upstream", "ghcr")));
        assertEquals(97, text.value("mirrorball_upstream_ratelimit_remaining", Map.of("upstream", "docker.io")));
        assertEquals(1, text.require("mirrorball_upstream_ratelimit_remaining", "gauge").samples().size(),
                "a limit not stated yet is left out");
    }

    @Test
    void collect_bytesMetersAndRpcTimers_countersAndLabelledSummaries() throws Exception {
        metrics.meter("http.bytes.in").mark(1000);
        metrics.meter("http.bytes.out").mark(5);
        metrics.counter("ipfs.rpc.errors").inc(2);
        metrics.timer("ipfs.rpc.files/stat").update(3, TimeUnit.MILLISECONDS);
        PrometheusText text = scrape();
        text.require("mirrorball_http_bytes_in", "counter");
        assertEquals(1000, text.value("mirrorball_http_bytes_in_total", Map.of()));
        assertEquals(5, text.value("mirrorball_http_bytes_out_total", Map.of()));
        assertEquals(2, text.value("mirrorball_ipfs_rpc_errors_total", Map.of()));
        assertEquals(1, text.value("mirrorball_ipfs_rpc_seconds_count", Map.of("op", "files/stat")));
        assertFalse(text.families().containsKey("mirrorball_http_requests_seconds"), "bytes are not a route");
    }

    @Test
    void collect_unmappedName_prefixedAndJvmPresent() throws Exception {
        metrics.counter("something.new").inc();
        PrometheusText text = scrape();
        assertEquals(1, text.value("mirrorball_something_new_total", Map.of()));
        assertTrue(text.families().keySet().stream().anyMatch(n -> n.startsWith("jvm_memory")), "JVM metrics");
        assertTrue(text.require("mirrorball_something_new", "counter").samples().size() == 1);
    }
}
