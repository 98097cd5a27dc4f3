package io.mirrorball.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.BlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every upstream of one gateway: the default ({@code upstream.*}) and the {@code upstreams} list, one
 * {@link UpstreamRegistry} each (own credentials, tag TTL, switches, caches and spool folder
 * {@code <spool root>/<name>}), and the choice of upstream for a request ({@link UpstreamRoutes}).
 */
public final class Upstreams implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Upstreams.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The upstream a request goes to: its canonical name, registry and config, the repository name
     * the client asked for and the name it has upstream.
     */
    public record Target(String upstream, UpstreamRegistry registry, MirrorballConfig.Upstream config,
                         RepositoryName name, RepositoryName remoteName) {

        public UpstreamManifest manifest(io.mirrorball.oci.Reference reference, boolean head) throws IOException {
            return registry.manifest(remoteName, reference, head);
        }

        public Optional<io.mirrorball.store.BlobInfo> blob(Digest digest, boolean head, ResponseSink sink)
                throws IOException {
            return registry.blob(remoteName, digest, head, sink);
        }

        /** {@code tags/list}: its {@code name} and Link header name the repository as the client asked. */
        public UpstreamDocument tags(String query) throws IOException {
            UpstreamDocument document = registry.tags(remoteName, query);
            if (name.equals(remoteName)) {
                return document;
            }
            Map<String, String> headers = new LinkedHashMap<>(document.headers());
            headers.computeIfPresent("Link", (k, link) -> link.replace("/v2/" + remoteName + "/", "/v2/" + name + "/"));
            return new UpstreamDocument(document.status(), document.contentType(), renamed(document.body()), headers,
                    document.stale());
        }

        public UpstreamDocument referrers(Digest digest, String query) throws IOException {
            return registry.referrers(remoteName, digest, query);
        }

        private byte[] renamed(byte[] body) {
            try {
                JsonNode root = JSON.readTree(body);
                if (root instanceof ObjectNode object && object.has("name")) {
                    object.put("name", name.value());
                    return JSON.writeValueAsBytes(object);
                }
            } catch (IOException e) {
                LOG.debug("tags list of {} from {} is not JSON; passed on as is", remoteName, upstream);
            }
            return body;
        }
    }

    private record Entry(MirrorballConfig.Upstream config, UpstreamRegistry registry) {
    }

    private final Map<String, Entry> byName;
    private final String defaultName;
    private final UpstreamRoutes routes;

    private Upstreams(Map<String, Entry> byName, String defaultName) {
        this.byName = byName;
        this.defaultName = defaultName;
        this.routes = new UpstreamRoutes(byName.keySet(), defaultName);
    }

    /**
     * Opens a registry for the default upstream (when its URL is set) and for every entry of
     * {@code upstreams}, mirroring into {@code blobs}; each spools under {@code spoolRoot/<name>}.
     * The names are taken as {@link io.mirrorball.config.ConfigLoader} validated them: canonical
     * registry hosts, one upstream each.
     */
    public static Upstreams open(MirrorballConfig config, BlobStore blobs, io.mirrorball.store.UpstreamTags tags,
                                 Path spoolRoot) throws IOException {
        // folders that earlier versions put directly in the spool root, one per instance
        MirrorSpool.sweepInstanceFolders(spoolRoot);
        Map<String, Entry> byName = new LinkedHashMap<>();
        try {
            for (MirrorballConfig.Upstream upstream : config.allUpstreams()) {
                if (byName.containsKey(upstream.name())) {
                    throw new IllegalArgumentException("two upstreams named " + upstream.name()
                            + " (a configuration that ConfigLoader did not load)");
                }
                UpstreamRegistry registry = UpstreamRegistry.open(upstream, blobs, tags,
                        spoolRoot.resolve(folder(upstream.name())));
                byName.put(upstream.name(), new Entry(upstream, registry));
            }
        } catch (IOException | RuntimeException e) {
            closeAll(byName.values(), e);
            throw e;
        }
        String defaultName = config.upstream().enabled() ? config.upstream().name() : null;
        if (byName.size() > 1) {
            LOG.info("upstreams: {} (default: {})", String.join(", ", byName.keySet()),
                    defaultName == null ? "none" : defaultName);
        }
        return new Upstreams(byName, defaultName);
    }

    /** The spool folder of an upstream: its name with everything but [a-z0-9.-] as '_' ({@code host_5000}). */
    static String folder(String name) {
        return name.replaceAll("[^a-z0-9.-]", "_");
    }

    /** Every upstream registry, the default first. */
    public List<UpstreamRegistry> registries() {
        return byName.values().stream().map(Entry::registry).toList();
    }

    /** Whether any upstream is configured: names not held here then fall through. */
    public boolean any() {
        return !byName.isEmpty();
    }

    /** The default upstream's registry, when {@code upstream.url} is set. */
    public Optional<UpstreamRegistry> defaultRegistry() {
        return defaultName == null ? Optional.empty() : Optional.of(byName.get(defaultName).registry());
    }

    /** The registry of the upstream with this (canonical) name. */
    public Optional<UpstreamRegistry> registry(String name) {
        return Optional.ofNullable(byName.get(name)).map(Entry::registry);
    }

    /** Every upstream's canonical name, the default first. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * The upstream a read of {@code name} goes to: by {@code ns}, by a name prefix, or the default
     * (see {@link UpstreamRoutes}); empty when none answers for it. An {@code ns} that no upstream
     * stands for is NAME_UNKNOWN.
     */
    public Optional<Target> resolve(RepositoryName name, Optional<RegistryHost> ns) {
        return routes.choose(name, ns).map(choice -> {
            Entry entry = byName.get(choice.upstream());
            return new Target(choice.upstream(), entry.registry(), entry.config(), name, choice.remoteName());
        });
    }

    @Override
    public void close() {
        byName.values().forEach(entry -> entry.registry().close());
    }

    private static void closeAll(Iterable<Entry> entries, Exception cause) {
        for (Entry entry : entries) {
            try {
                entry.registry().close();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }
}
