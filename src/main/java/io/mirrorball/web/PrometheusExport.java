package io.mirrorball.web;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.MapperConfig;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's Dropwizard registry (dotted names, {@code http.manifest.2xx}) as Prometheus families
 * with labels ({@code mirrorball_http_requests_seconds{route="manifest",status="2xx"}}), plus the JVM's
 * metrics, in a Prometheus registry of this gateway's own.
 *
 * <p>The mapping is the Prometheus client's Dropwizard label mapper (graphite-style globs, see
 * {@link #FAMILIES}). Two things the client's exporter (1.4.3) does not do are done here: several
 * Dropwizard metrics that map to one family are merged into that family (the client refuses the
 * duplicate name, client_java issue 1712), and an upstream's name, which holds dots
 * ({@code upstream.docker.io.hits}), is one label value.
 */
final class PrometheusExport implements MultiCollector {
    private static final Logger LOG = LoggerFactory.getLogger(PrometheusExport.class);
    /** Stands for a dot inside an upstream's name while the globs match (a glob's {@code *} stops at dots). */
    private static final char HIDDEN_DOT = '\u2024';

    /** One family: the Dropwizard names it takes (a glob), its Prometheus name, labels and help. */
    record Family(String match, String name, Map<String, String> labels, String help) {
    }

    /**
     * Every family the gateway exports, first match wins. A Meter is looked up by its name with
     * {@code _total} appended (the exporter does so) and becomes a counter.
     */
    static final List<Family> FAMILIES = List.of(
            new Family("http.bytes.in_total", "mirrorball_http_bytes_in", Map.of(),
                    "Bytes of request bodies received"),
            new Family("http.bytes.out_total", "mirrorball_http_bytes_out", Map.of(),
                    "Bytes of response bodies sent"),
            new Family("http.bytes.in", "mirrorball_http_bytes_in", Map.of(), ""),
            new Family("http.bytes.out", "mirrorball_http_bytes_out", Map.of(), ""),
            new Family("http.*.*", "mirrorball_http_requests_seconds", Map.of("route", "${0}", "status", "${1}"),
                    "HTTP requests by route and status class, and their duration in seconds"),
            new Family("upstream.*.hits", "mirrorball_upstream_hits", Map.of("upstream", "${0}"),
                    "Pulls through an upstream answered from what mirrorball holds"),
            new Family("upstream.*.misses", "mirrorball_upstream_misses", Map.of("upstream", "${0}"),
                    "Pulls through an upstream that were fetched from the upstream"),
            new Family("upstream.*.errors", "mirrorball_upstream_errors", Map.of("upstream", "${0}"),
                    "Requests to an upstream that failed, timed out or were rate limited"),
            new Family("upstream.*.up", "mirrorball_upstream_up", Map.of("upstream", "${0}"),
                    "1 when the last contact with the upstream succeeded (or there was none yet), else 0"),
            new Family("upstream.*.ratelimit.limit", "mirrorball_upstream_ratelimit_limit",
                    Map.of("upstream", "${0}"), "The pull limit the upstream stated last (ratelimit-limit)"),
            new Family("upstream.*.ratelimit.remaining", "mirrorball_upstream_ratelimit_remaining",
                    Map.of("upstream", "${0}"), "The pulls left that the upstream stated last (ratelimit-remaining)"),
            new Family("ipfs.rpc.errors", "mirrorball_ipfs_rpc_errors", Map.of(),
                    "Kubo RPC calls that failed (the node unreachable, or an error other than not found)"),
            new Family("ipfs.rpc.*", "mirrorball_ipfs_rpc_seconds", Map.of("op", "${0}"),
                    "Kubo RPC calls by command, seconds until the node answered"),
            new Family("store.publish", "mirrorball_publish_seconds", Map.of(),
                    "Images published into IPFS (their CID computed and placed), and how long it took"),
            new Family("store.clone", "mirrorball_clone_seconds", Map.of(),
                    "Repositories cloned from IPFS by CID, and how long it took"),
            new Family("uploads.open", "mirrorball_uploads_open", Map.of(), "Upload sessions open"),
            new Family("cache.bytes", "mirrorball_cache_bytes", Map.of(),
                    "Bytes of pulled-through content the cache ledger holds"),
            new Family("store.bytes", "mirrorball_store_bytes", Map.of(),
                    "Bytes of every blob, manifest and config in the store (read at most every 30 s)"));

    private final MetricRegistry metrics;
    private final Mapper mapper;
    private final Map<String, String> help = new LinkedHashMap<>();

    private PrometheusExport(MetricRegistry metrics, Supplier<Collection<String>> upstreams) {
        this.metrics = metrics;
        List<MapperConfig> configs = new ArrayList<>();
        for (Family family : FAMILIES) {
            configs.add(new MapperConfig(family.match(), family.name(), family.labels()));
            if (!family.help().isEmpty()) {
                help.putIfAbsent(family.name(), family.help());
            }
        }
        this.mapper = new Mapper(configs, upstreams);
    }

    /**
     * The JVM's metrics, one registry for the process: the client keeps every registry it registered
     * JVM metrics into for good, so a registry of each gateway (tests start hundreds) would keep each
     * closed gateway alive.
     */
    private static final PrometheusRegistry JVM = jvm();

    private static PrometheusRegistry jvm() {
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        return registry;
    }

    /** A Prometheus registry of the gateway's metrics and the JVM's. */
    static PrometheusRegistry registry(MetricRegistry metrics, Supplier<Collection<String>> upstreams) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new PrometheusExport(metrics, upstreams));
        registry.register((MultiCollector) JVM::scrape);
        return registry;
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, List<MetricSnapshot>> families = new LinkedHashMap<>();
        for (String name : metrics.getNames()) {
            // one exporter per Dropwizard metric: each gives at most one snapshot, merged into its family below
            DropwizardExports one = new DropwizardExports(metrics, (n, m) -> n.equals(name), mapper);
            for (MetricSnapshot snapshot : one.collect()) {
                families.computeIfAbsent(snapshot.getMetadata().getName(), k -> new ArrayList<>()).add(snapshot);
            }
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        families.forEach((name, parts) -> {
            MetricSnapshot merged = merge(name, parts);
            if (merged != null) {
                out.metricSnapshot(merged);
            }
        });
        return out.build();
    }

    /** The snapshots of one family as one, with the family's help; null (logged) when their types differ. */
    private MetricSnapshot merge(String name, List<MetricSnapshot> parts) {
        MetricMetadata metadata = new MetricMetadata(name, help.getOrDefault(name, "mirrorball metric " + name));
        Class<?> type = parts.get(0).getClass();
        if (parts.stream().anyMatch(p -> p.getClass() != type)) {
            LOG.warn("metrics: {} is made of metrics of different kinds; not exported", name);
            return null;
        }
        if (type == CounterSnapshot.class) {
            return new CounterSnapshot(metadata, points(parts, CounterSnapshot.CounterDataPointSnapshot.class));
        }
        if (type == GaugeSnapshot.class) {
            return new GaugeSnapshot(metadata, points(parts, GaugeSnapshot.GaugeDataPointSnapshot.class));
        }
        if (type == SummarySnapshot.class) {
            return new SummarySnapshot(metadata, points(parts, SummarySnapshot.SummaryDataPointSnapshot.class));
        }
        LOG.warn("metrics: {} is a {}, which this export does not merge", name, type.getSimpleName());
        return null;
    }

    private static <T> List<T> points(List<MetricSnapshot> parts, Class<T> type) {
        List<T> points = new ArrayList<>();
        for (MetricSnapshot part : parts) {
            part.getDataPoints().forEach(p -> points.add(type.cast(p)));
        }
        return points;
    }

    /**
     * The client's label mapper, with an upstream's dotted name kept whole, and {@code mirrorball_} in
     * front of a name no family takes.
     */
    private static final class Mapper extends CustomLabelMapper {
        private final Supplier<Collection<String>> upstreams;

        Mapper(List<MapperConfig> configs, Supplier<Collection<String>> upstreams) {
            super(configs);
            this.upstreams = upstreams;
        }

        @Override
        public String getName(String dropwizardName) {
            String hidden = hideUpstreamDots(dropwizardName);
            String name = super.getName(hidden);
            return name.equals(hidden) ? "mirrorball_" + dropwizardName : name;
        }

        @Override
        public Labels getLabels(String dropwizardName, List<String> names, List<String> values) {
            Labels labels = super.getLabels(hideUpstreamDots(dropwizardName), names, values);
            Labels.Builder restored = Labels.builder();
            labels.forEach(l -> restored.label(l.getName(), l.getValue().replace(HIDDEN_DOT, '.')));
            return restored.build();
        }

        /** {@code upstream.docker.io.hits} as {@code upstream.docker<hidden>io.hits}, for a known upstream. */
        private String hideUpstreamDots(String name) {
            if (!name.startsWith("upstream.")) {
                return name;
            }
            String rest = name.substring("upstream.".length());
            return upstreams.get().stream()
                    .filter(u -> rest.startsWith(u + "."))
                    .max(Comparator.comparingInt(String::length))
                    .map(u -> "upstream." + u.replace('.', HIDDEN_DOT) + rest.substring(u.length()))
                    .orElse(name);
        }
    }
}
