package io.mirrorball.web;

import com.codahale.metrics.MetricRegistry;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodes;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.upstream.retention.CacheLedger;
import io.mirrorball.upstream.retention.CacheRetention;
import jakarta.servlet.ServletContext;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one running gateway holds: config, IPFS node, store, metrics and the housekeeping
 * thread. Created by {@link GatewayListener} and shared with the filters as a context attribute.
 */
public final class Gateway implements AutoCloseable {
    static final String ATTRIBUTE = Gateway.class.getName();
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    private final MirrorballConfig config;
    private final IpfsNode node;
    private final RegistryStore store;
    private final MetricRegistry metrics;
    private final NodeProbe nodeProbe;
    private io.prometheus.metrics.model.registry.PrometheusRegistry prometheus;
    private final ScheduledExecutorService housekeeping;
    private final BlobHandler blobHandler;
    private final UploadHandler uploadHandler;
    private final ManifestHandler manifestHandler;
    private final ListHandler listHandler;
    private io.mirrorball.upstream.Upstreams upstreams;
    private CacheRetention retention;

    private Gateway(MirrorballConfig config, IpfsNode node, RegistryStore store, MetricRegistry metrics) {
        this.config = config;
        this.node = node;
        this.store = store;
        this.metrics = metrics;
        this.nodeProbe = new NodeProbe(node, NodeProbe.TIMEOUT);
        this.blobHandler = new BlobHandler(store.blobs());
        this.uploadHandler = new UploadHandler(store.uploads(), store.blobs());
        this.manifestHandler = new ManifestHandler(store.manifests(), store.publisher(), store.deleter());
        this.listHandler = new ListHandler(store, config.upstream().enabled() ? config.upstream().name() : "");
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(named("mirrorball-housekeeping"));
    }

    /** How long a scrape's store size is reused (one {@code files/stat} of the blob tree). */
    private static final Duration STORE_BYTES_AGE = Duration.ofSeconds(30);
    /** How often the cache ledger's last uses are written, and how often retention runs. */
    static final Duration LEDGER_FLUSH = Duration.ofMinutes(1);
    static final Duration RETENTION_PERIOD = Duration.ofMinutes(10);

    /** Opens the IPFS node and the store, and starts the upload purge. */
    public static Gateway start(MirrorballConfig config) throws IOException {
        return start(config, Clock.systemUTC());
    }

    /** As {@link #start(MirrorballConfig)}, with the clock of uploads and of the cache's last use. */
    static Gateway start(MirrorballConfig config, Clock clock) throws IOException {
        IpfsNode node = IpfsNodes.open(config.storage().ipfs());
        MetricRegistry metrics = new MetricRegistry();
        node.observeRpc(new IpfsRpcMetrics(metrics));
        Gateway started = null;
        try {
            RegistryStore store = RegistryStore.open(node, config.storage().ipfs().mfsRoot(),
                    config.storage().uploads().path(), config.storage().uploads().expireAfter(), clock,
                    config.storage().ipfs().maxCloneWaits());
            Gateway gateway = new Gateway(config, node, store, metrics);
            started = gateway;
            // the mirrors' spools: beside the uploads, mirror/<upstream>/, one locked folder per instance
            // (see MirrorSpool)
            gateway.upstreams = io.mirrorball.upstream.Upstreams.open(config, store.blobs(), store.upstreamTags(),
                    config.storage().uploads().path().resolve("mirror"));
            for (io.mirrorball.upstream.UpstreamRegistry registry : gateway.upstreams.registries()) {
                UpstreamGauges.register(gateway.metrics, registry);
            }
            if (!config.allUpstreams().isEmpty()) {
                // the ledger also tells what came from an upstream: only that is the mirror's to serve by
                // digest, and only that may join a pushed repository without being uploaded to it
                gateway.startRetention(clock);
                gateway.retention().ifPresent(r -> {
                    gateway.upstreams.registries().forEach(registry -> registry.cacheListener(r.ledger()));
                    store.manifests().mirroredContent(r.ledger()::holds);
                });
            }
            gateway.registerMetrics();
            long period = Math.max(60, Math.min(3600, config.storage().uploads().expireAfter().toSeconds() / 4));
            gateway.housekeeping.scheduleWithFixedDelay(() -> store.uploads().purgeExpired(), 0, period,
                    TimeUnit.SECONDS);
            String version = safeVersion(node, config.storage().ipfs());
            LOG.info("gateway started: ipfs {} ({}), mfs root {}, uploads in {}", config.storage().ipfs().nodeForDisplay(),
                    version, config.storage().ipfs().mfsRoot(), config.storage().uploads().path());
            return gateway;
        } catch (IOException | RuntimeException e) {
            if (started != null) {
                try {
                    started.close(); // releases the cache ledger and the spool too; closes the node
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            } else {
                node.close();
            }
            throw e;
        }
    }

    /**
     * The store's metrics (publishes, clones, open uploads, the cache's bytes) and the Prometheus
     * registry that exports them with the JVM's.
     */
    private void registerMetrics() {
        metrics.register("store.publish", store.publisher().publishes());
        metrics.register("store.clone", store.cloner().clones());
        metrics.register("uploads.open", (com.codahale.metrics.Gauge<Integer>) () -> {
            try {
                return store.uploads().openSessions();
            } catch (IOException e) {
                return null; // not exported this time
            }
        });
        metrics.register("store.bytes", new com.codahale.metrics.CachedGauge<Long>(STORE_BYTES_AGE.toSeconds(),
                TimeUnit.SECONDS) {
            @Override
            protected Long loadValue() {
                try {
                    return store.storedBytes();
                } catch (IOException e) {
                    return null; // not exported this time
                }
            }
        });
        if (retention != null) {
            CacheLedger ledger = retention.ledger();
            metrics.register("cache.bytes", (com.codahale.metrics.Gauge<Long>) ledger::totalBytes);
        }
        prometheus = PrometheusExport.registry(metrics, () -> upstreams.registries().stream()
                .map(io.mirrorball.upstream.UpstreamRegistry::name).toList());
    }

    /** The cache ledger (beside the uploads, see {@link CacheLedger}) and retention on the housekeeping thread. */
    private void startRetention(Clock clock) throws IOException {
        CacheLedger ledger;
        try {
            ledger = CacheLedger.open(cacheLedgerPath(config), clock);
        } catch (io.mirrorball.upstream.retention.LedgerInUseException e) {
            LOG.warn("{}: another instance sharing the uploads folder keeps the cache ledger; this one neither"
                    + " tracks nor removes pulled-through content, and serves it from the upstream", e.getMessage());
            upstreams.registries().forEach(registry -> registry.cacheListener(io.mirrorball.upstream.CacheListener.UNTRACKED));
            return;
        }
        retention = CacheRetention.of(store, ledger, config.cache(), clock, CacheRetention.GC_GRACE);
        housekeeping.scheduleWithFixedDelay(() -> {
            try {
                ledger.flush();
            } catch (IOException | RuntimeException e) {
                LOG.warn("cache ledger: writing last uses: {}", e.toString());
            }
        }, LEDGER_FLUSH.toSeconds(), LEDGER_FLUSH.toSeconds(), TimeUnit.SECONDS);
        if (retention.limited()) {
            housekeeping.scheduleWithFixedDelay(() -> {
                try {
                    retention.run();
                } catch (IOException | RuntimeException e) {
                    LOG.warn("cache retention: {}", e.toString());
                }
            }, LEDGER_FLUSH.toSeconds(), RETENTION_PERIOD.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Where the cache ledger lives: beside the uploads (local disk of this instance). */
    public static java.nio.file.Path cacheLedgerPath(MirrorballConfig config) {
        return config.storage().uploads().path().resolve("cache");
    }

    /**
     * The node's version, or "not reachable" (it may come up later). A node that refuses the
     * credentials (Kubo's API.Authorizations) fails the start: that does not heal by itself.
     */
    private static String safeVersion(IpfsNode node, MirrorballConfig.Ipfs config) {
        try {
            return node.version();
        } catch (io.mirrorball.ipfs.IpfsAccessDeniedException e) {
            throw new io.mirrorball.config.ConfigException(
                    config.nodeAuth().isEmpty() ? "storage.ipfs.node" : "storage.ipfs.node-auth",
                    "the Kubo RPC API refused the credentials (API.Authorizations)"
                            + (config.nodeAuth().isEmpty() && !config.node().contains("@")
                            ? "; set storage.ipfs.node-auth or put user:password in the URL" : ""));
        } catch (IOException e) {
            LOG.warn("IPFS node does not answer yet: {}", e.getMessage());
            return "not reachable";
        }
    }

    /** The gateway of a servlet context. */
    public static Gateway from(ServletContext context) {
        Gateway gateway = (Gateway) context.getAttribute(ATTRIBUTE);
        if (gateway == null) {
            throw new IllegalStateException("no gateway in this context: GatewayListener did not run");
        }
        return gateway;
    }

    static ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public MirrorballConfig config() {
        return config;
    }

    public IpfsNode node() {
        return node;
    }

    public RegistryStore store() {
        return store;
    }

    public MetricRegistry metrics() {
        return metrics;
    }

    /** The metrics in the Prometheus model: {@link #metrics()} with labels, and the JVM's. */
    public io.prometheus.metrics.model.registry.PrometheusRegistry prometheus() {
        return prometheus;
    }

    /** The readiness check of the IPFS node. */
    NodeProbe nodeProbe() {
        return nodeProbe;
    }

    /** The default upstream's fall-through, when upstream.url is set. */
    public java.util.Optional<io.mirrorball.upstream.UpstreamRegistry> upstream() {
        return upstreams.defaultRegistry();
    }

    /** Every upstream (default and {@code upstreams}) and the choice between them. */
    public io.mirrorball.upstream.Upstreams upstreams() {
        return upstreams;
    }

    /** Retention of pulled-through content, when an upstream mirrors into the store. */
    public java.util.Optional<CacheRetention> retention() {
        return java.util.Optional.ofNullable(retention);
    }

    BlobHandler blobHandler() {
        return blobHandler;
    }

    UploadHandler uploadHandler() {
        return uploadHandler;
    }

    ManifestHandler manifestHandler() {
        return manifestHandler;
    }

    ListHandler listHandler() {
        return listHandler;
    }

    @Override
    public void close() throws IOException {
        housekeeping.shutdownNow();
        nodeProbe.close();
        if (upstreams != null) {
            upstreams.close();
        }
        if (retention != null) {
            retention.ledger().close();
        }
        store.close();
        node.close();
    }
}
