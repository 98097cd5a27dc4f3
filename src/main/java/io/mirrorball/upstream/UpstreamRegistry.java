package io.mirrorball.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.credentials.Credentials;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.BlobStore;
import io.mirrorball.store.UpstreamTags;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream fall-through: manifests, blobs, tags and referrers of names that live upstream, with
 * caches and mirroring into IPFS.
 *
 * <ul>
 * <li>Manifests by digest are cached without expiry (immutable), and mirrored into IPFS.</li>
 * <li>Tag to digest is fresh for {@code upstream.tag-ttl}; a stale tag is revalidated with HEAD, and
 *     served from cache when the upstream fails, times out or rate-limits (stale-if-error).</li>
 * <li>Names the upstream does not know are remembered for a short while (negative cache).</li>
 * <li>With {@code upstream.mirror}, tag to digest is also kept in the store ({@link UpstreamTags}), written
 *     when a tag's digest changes, after its manifest is in IPFS; after a restart a tag is read back on
 *     its first use, stale, so it is revalidated, and served when the upstream is down. Without mirroring
 *     nothing is kept: a restart forgets every tag.</li>
 * <li>The upstream's rate limit (Docker Hub's {@code ratelimit-*} headers) is kept, see {@link #rateLimit()}.</li>
 * <li>Blobs IPFS holds are served from IPFS; others stream from upstream while they are teed into IPFS,
 *     one upstream fetch per digest at a time ({@link BlobMirror}).</li>
 * </ul>
 * Writes never come here: they are local pushes.
 */
public final class UpstreamRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ERROR_CAP = 64 * 1024;
    static final String ACCEPT = MediaTypes.ACCEPT_ALL;

    /** Tunables besides the config: timeouts, negative TTL, and the time source. */
    record Settings(UpstreamClient.Settings http, Duration negativeTtl, Duration joinTimeout, Duration mirrorStall,
                    int mirrorThreads, Ticker ticker, Path spool) {
        /** The defaults, with the folder of the mirror's spool (see {@link MirrorSpool}). */
        static Settings defaults(Path spool) {
            return new Settings(UpstreamClient.Settings.defaults(), Duration.ofSeconds(30), Duration.ofMinutes(30),
                    Duration.ofMinutes(2), 32, Ticker.systemTicker(), spool);
        }
    }

    private record BlobKey(RepositoryName name, Digest digest) {
    }

    private record CachedManifest(String mediaType, byte[] content) {
    }

    private record TagsKey(RepositoryName name, String query) {
    }

    private final MirrorballConfig.Upstream config;
    private final BlobStore blobs;
    private final UpstreamClient client;
    private final TagCache tags;
    /** The repository each blob in flight into the store was pulled for (for the cache ledger). */
    private final Cache<Digest, RepositoryName> mirroringNames = Caffeine.newBuilder().maximumSize(10_000).build();
    private final Cache<Digest, CachedManifest> manifests = Caffeine.newBuilder()
            .maximumWeight(64L * 1024 * 1024)
            .weigher((Digest d, CachedManifest m) -> m.content().length + 200)
            .build();
    private final Cache<RepositoryName, UpstreamErrorException> unknownNames;
    private final Cache<TagsKey, UpstreamDocument> lastTags = Caffeine.newBuilder().maximumSize(10_000).build();
    /** Sizes that verified manifests declare for their blobs: a blob from the upstream may not differ. */
    private final Cache<BlobKey, Long> sizes = Caffeine.newBuilder().maximumSize(100_000).build();
    private final ThreadPoolExecutor mirrorThreads;
    private final BlobMirror mirror;
    private final MirrorSpool spool;
    private volatile CacheListener cacheListener = CacheListener.NONE;
    /** The store's tags of this upstream, or null when nothing is kept (no mirroring). */
    private final UpstreamTags persisted;
    /** The digest each tag has in the store (written, or read back), so a tag is written only when it changes. */
    private final Cache<TagCache.Key, Digest> persistedDigests = Caffeine.newBuilder().maximumSize(100_000).build();
    /** Writes tags into the store off the request path, in order. */
    private final ThreadPoolExecutor tagWriter;
    private final AtomicReference<RateLimitInfo> rateLimit = new AtomicReference<>();

    private UpstreamRegistry(MirrorballConfig.Upstream config, BlobStore blobs, UpstreamTags persisted,
                             Settings settings, MirrorSpool spool) {
        this.config = config;
        this.spool = spool;
        this.blobs = blobs;
        this.persisted = config.mirror() && UpstreamTags.isUpstreamName(config.name()) ? persisted : null;
        if (config.mirror() && this.persisted == null) {
            LOG.warn("upstream {}: its name is not a registry host; its tags are not kept across restarts",
                    config.name());
        }
        this.tagWriter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000),
                r -> {
                    Thread t = new Thread(r, "mirrorball-upstream-tags");
                    t.setDaemon(true);
                    return t;
                });
        UpstreamEndpoint endpoint = UpstreamEndpoint.parse(config.url());
        Credentials credentials = config.username() == null || config.username().isEmpty() ? Credentials.ANONYMOUS
                : new Credentials.Basic(config.username(), config.password() == null ? "" : config.password());
        this.client = new UpstreamClient(endpoint, () -> credentials,
                new TokenCache(settings.ticker()), settings.http(),
                AddressPolicy.of(endpoint.base().getHost(), config.redirectAllow()));
        this.tags = new TagCache(config.tagTtl(), settings.ticker());
        this.unknownNames = Caffeine.newBuilder().maximumSize(10_000).ticker(settings.ticker())
                .expireAfterWrite(settings.negativeTtl()).build();
        AtomicInteger count = new AtomicInteger();
        this.mirrorThreads = new ThreadPoolExecutor(0, settings.mirrorThreads(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "mirrorball-upstream-mirror-" + threadName(config) + "-"
                            + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.mirror = new BlobMirror(blobs, digest -> cacheListener.holds(digest), mirrorThreads, settings.joinTimeout(), settings.mirrorStall(),
                spool.dir());
        // the add of a blob may finish after its clients were served: the ledger hears of it from the add
        this.mirror.onMirrored(info -> cacheListener.stored(config.name(), mirroringNames.getIfPresent(info.digest()),
                info.digest(), info.size()));
    }

    /** The upstream's name as a thread name part: {@code ghcr.io}, {@code 127.0.0.1_5000}. */
    private static String threadName(MirrorballConfig.Upstream config) {
        String name = config.name() == null || config.name().isEmpty()
                ? MirrorballConfig.Upstream.hostOf(config.url()) : config.name();
        return name.replaceAll("[^A-Za-z0-9.-]", "_");
    }

    /**
     * The fall-through for {@code upstream.url}, mirroring into {@code blobs} when {@code upstream.mirror}.
     *
     * @param tags  where tags learned from this upstream are kept (under its {@code name}) when it mirrors
     * @param spool the folder for blobs on their way into IPFS; this instance uses a locked folder of its
     *              own inside, and deletes what instances that are gone left there
     */
    public static UpstreamRegistry open(MirrorballConfig.Upstream config, BlobStore blobs, UpstreamTags tags,
                                        Path spool) throws IOException {
        return open(config, blobs, tags, Settings.defaults(spool));
    }

    static UpstreamRegistry open(MirrorballConfig.Upstream config, BlobStore blobs, UpstreamTags tags,
                                 Settings settings) throws IOException {
        if (!config.enabled()) {
            throw new IllegalArgumentException("upstream.url is empty");
        }
        MirrorSpool spool = MirrorSpool.open(settings.spool());
        UpstreamRegistry registry;
        try {
            registry = new UpstreamRegistry(config, blobs, tags, settings, spool);
        } catch (RuntimeException e) {
            spool.close();
            throw e;
        }
        LOG.info("upstream fall-through for {} to {}{} (tag ttl {}, mirror {})", threadName(config),
                registry.client.endpoint().base(),
                registry.client.endpoint().dockerHub() ? " (Docker Hub, library/ for single names)" : "",
                config.tagTtl(), config.mirror());
        return registry;
    }

    /** Tells {@code listener} what is mirrored into the store and when stored content is served. */
    public void cacheListener(CacheListener listener) {
        this.cacheListener = listener == null ? CacheListener.NONE : listener;
    }

    /** The upstream's name: the registry host it stands for ({@code docker.io}, {@code ghcr.io}). */
    public String name() {
        return config.name();
    }

    /** The rate limit the upstream stated last (Docker Hub's {@code ratelimit-*} headers); empty before any. */
    public Optional<RateLimitInfo> rateLimit() {
        return Optional.ofNullable(rateLimit.get());
    }

    /** The upstream base URL, after Docker Hub aliases are mapped. */
    public URI base() {
        return client.endpoint().base();
    }

    /** Hits, misses, errors and the last contact of this upstream (for metrics and readiness). */
    public UpstreamStats stats() {
        return client.stats();
    }

    /** HTTP requests sent upstream so far (for tests and metrics). */
    public long upstreamRequests() {
        return client.requestCount();
    }

    /** Blobs mirrored into IPFS so far. */
    public long mirroredBlobs() {
        return mirror.mirroredCount();
    }

    // ---------------------------------------------------------------- manifests

    /**
     * A manifest by tag or digest. For a HEAD by tag the bytes may be absent (only the upstream's HEAD
     * was needed). Throws {@link UpstreamErrorException} with the upstream's own error, or OciException.
     */
    public UpstreamManifest manifest(RepositoryName name, Reference reference, boolean head) throws IOException {
        checkKnown(name);
        if (reference.isDigest()) {
            return byDigest(name, reference.digest(), false);
        }
        TagCache.Key key = new TagCache.Key(name, reference.tag());
        Optional<TagCache.Entry> known = tags.get(key);
        if (known.isEmpty()) {
            known = readPersisted(key);
        }
        if (known.isPresent() && tags.isFresh(known.get())) {
            return fromEntry(key, known.get(), head, false, true);
        }
        String action = "pull manifest " + reference + " of " + name;
        try {
            if (known.isPresent() || head) {
                Optional<TagCache.Entry> validated = headTag(name, key, action);
                if (validated.isPresent()) {
                    return fromEntry(key, validated.get(), head, false, false);
                }
            }
            return getTag(name, key, action);
        } catch (OciException | UpstreamErrorException e) {
            if (known.isPresent() && isUpstreamFailure(e)) {
                LOG.warn("{}: upstream failed ({}); serving the cached {}", action, e.getMessage(),
                        known.get().digest());
                return fromEntry(key, known.get(), head, true, false);
            }
            if (e instanceof UpstreamErrorException u && u.status() == 404) {
                tags.invalidate(key);
                forgetPersisted(key);
            }
            throw e;
        }
    }

    private static boolean isUpstreamFailure(RuntimeException e) {
        if (e instanceof UpstreamErrorException u) {
            return u.isServerError();
        }
        OciErrorCode code = ((OciException) e).code();
        return code == OciErrorCode.BAD_GATEWAY || code == OciErrorCode.GATEWAY_TIMEOUT
                || code == OciErrorCode.UNAVAILABLE || code == OciErrorCode.TOOMANYREQUESTS;
    }

    /** HEAD by tag: the digest it points at now; empty when the upstream gave no digest (then GET). */
    private Optional<TagCache.Entry> headTag(RepositoryName name, TagCache.Key key, String action) throws IOException {
        URI uri = client.endpoint().resolve(name, "manifests/" + key.tag(), null);
        try (UpstreamClient.Exchange ex = client.send(action, "HEAD", uri, scope(name), Map.of("Accept", ACCEPT),
                UpstreamClient.Kind.DOCUMENT)) {
            observe(ex);
            if (ex.status() != 200) {
                throw refuse(action, name, ex);
            }
            String header = ex.header("Docker-Content-Digest");
            if (header == null || !Digest.isDigest(header)) {
                return Optional.empty();
            }
            String mediaType = MediaTypes.base(ex.header("Content-Type"));
            return Optional.of(tags.put(key, Digest.parse(header), mediaType, ex.contentLength()));
        }
    }

    private UpstreamManifest getTag(RepositoryName name, TagCache.Key key, String action) throws IOException {
        client.stats().miss();
        URI uri = client.endpoint().resolve(name, "manifests/" + key.tag(), null);
        try (UpstreamClient.Exchange ex = client.send(action, "GET", uri, scope(name), Map.of("Accept", ACCEPT),
                UpstreamClient.Kind.DOCUMENT)) {
            observe(ex);
            if (ex.status() != 200) {
                throw refuse(action, name, ex);
            }
            byte[] content = readManifest(ex, action);
            Digest digest = Digest.ofBytes(content);
            String announced = ex.header("Docker-Content-Digest");
            if (announced != null && Digest.isDigest(announced)) {
                Digest claimed = Digest.parse(announced);
                if (!Arrays.equals(claimed.newMessageDigest().digest(content), claimed.bytes())) {
                    throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": the upstream announced " + announced
                            + " but sent bytes that do not match it");
                }
            }
            String mediaType = mediaType(ex.header("Content-Type"), content);
            boolean storing = persist(key, digest, mediaType, content);
            remember(name, digest, mediaType, content, !storing);
            tags.put(key, digest, mediaType, content.length);
            return new UpstreamManifest(digest, mediaType, content.length, content, false, false);
        }
    }

    /** {@code fresh}: the tag was answered without asking the upstream. */
    private UpstreamManifest fromEntry(TagCache.Key key, TagCache.Entry entry, boolean head, boolean stale,
                                       boolean fresh) throws IOException {
        RepositoryName name = key.name();
        CachedManifest cached = manifests.getIfPresent(entry.digest());
        if (cached == null && head && entry.mediaType() != null && entry.size() >= 0) {
            return new UpstreamManifest(entry.digest(), entry.mediaType(), entry.size(), null, stale, fresh);
        }
        UpstreamManifest manifest = byDigest(name, entry.digest(), stale);
        String mediaType = entry.mediaType() != null ? entry.mediaType() : manifest.mediaType();
        if (!stale && manifest.content() != null) {
            persist(key, manifest.digest(), mediaType, manifest.content());
        }
        return new UpstreamManifest(manifest.digest(), mediaType, manifest.size(), manifest.content(), stale,
                fresh && manifest.cached());
    }

    /** By digest: memory, then IPFS, then upstream (verified). */
    private UpstreamManifest byDigest(RepositoryName name, Digest digest, boolean stale) throws IOException {
        CachedManifest cached = manifests.getIfPresent(digest);
        if (cached != null) {
            cacheListener.served(digest);
            client.stats().hit();
            return new UpstreamManifest(digest, cached.mediaType(), cached.content().length, cached.content(), stale,
                    true);
        }
        Optional<BlobInfo> stored = mirroredStat(digest);
        if (stored.isPresent() && stored.get().size() <= Manifest.MAX_BYTES) {
            cacheListener.served(digest);
            client.stats().hit();
            byte[] content = readStored(stored.get());
            String mediaType = mediaType(null, content);
            manifests.put(digest, new CachedManifest(mediaType, content));
            return new UpstreamManifest(digest, mediaType, content.length, content, stale, true);
        }
        String action = "pull manifest " + digest + " of " + name;
        client.stats().miss();
        URI uri = client.endpoint().resolve(name, "manifests/" + digest, null);
        try (UpstreamClient.Exchange ex = client.send(action, "GET", uri, scope(name), Map.of("Accept", ACCEPT),
                UpstreamClient.Kind.DOCUMENT)) {
            observe(ex);
            if (ex.status() != 200) {
                throw refuse(action, name, ex);
            }
            byte[] content = readManifest(ex, action);
            if (!Arrays.equals(digest.newMessageDigest().digest(content), digest.bytes())) {
                LOG.warn("{}: the upstream sent bytes of {}", action, Digest.ofBytes(content));
                throw new OciException(OciErrorCode.BAD_GATEWAY, action
                        + ": the upstream sent bytes that do not match the digest");
            }
            String mediaType = mediaType(ex.header("Content-Type"), content);
            remember(name, digest, mediaType, content, true);
            return new UpstreamManifest(digest, mediaType, content.length, content, false, false);
        }
    }

    // ---------------------------------------------------------------- tags kept in the store

    /**
     * A tag the store kept from before a restart, entered stale into the tag cache; empty when none was
     * kept or its link is not a digest. A store that cannot be read is logged, never a failed pull.
     */
    private Optional<TagCache.Entry> readPersisted(TagCache.Key key) {
        if (persisted == null) {
            return Optional.empty();
        }
        try {
            Optional<UpstreamTags.Tagged> tagged = persisted.read(config.name(), key.name(), key.tag());
            if (tagged.isEmpty()) {
                return Optional.empty();
            }
            Digest digest = tagged.get().digest();
            persistedDigests.put(key, digest);
            long size = blobs.stat(digest).map(BlobInfo::size).orElse(-1L);
            LOG.debug("tag {} of {} read back from the store: {}", key.tag(), key.name(), digest);
            return Optional.of(tags.putStale(key, digest, tagged.get().mediaType(), size));
        } catch (IOException | RuntimeException e) {
            LOG.warn("read the kept tag {} of {}: {}", key.tag(), key.name(), e.toString());
            return Optional.empty();
        }
    }

    /**
     * Keeps a tag in the store when its digest is not the one kept already: the manifest is put into
     * the blob store first, then the tag link, in the background. True when the manifest is queued for
     * storing here (so it need not be mirrored again).
     */
    private boolean persist(TagCache.Key key, Digest digest, String mediaType, byte[] content) {
        if (persisted == null || digest.equals(persistedDigests.getIfPresent(key))) {
            return false;
        }
        persistedDigests.put(key, digest);
        try {
            tagWriter.execute(() -> {
                try {
                    if (blobs.stat(digest).isEmpty()) {
                        blobs.put(new ByteArrayInputStream(content), digest);
                        cacheListener.stored(config.name(), key.name(), digest, content.length);
                    }
                    persisted.write(config.name(), key.name(), key.tag(), digest, mediaType);
                } catch (IOException | RuntimeException e) {
                    persistedDigests.asMap().remove(key, digest);
                    LOG.warn("keep tag {} of {} ({}) in the store: {}", key.tag(), key.name(), digest, e.toString());
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            persistedDigests.asMap().remove(key, digest);
            LOG.debug("keep tag {} of {}: the writer is busy; kept in memory only", key.tag(), key.name());
            return false;
        }
    }

    /** The upstream no longer has the tag: it is removed from the store too. */
    private void forgetPersisted(TagCache.Key key) {
        if (persisted == null) {
            return;
        }
        persistedDigests.invalidate(key);
        try {
            tagWriter.execute(() -> {
                try {
                    persisted.remove(config.name(), key.name(), key.tag());
                } catch (IOException | RuntimeException e) {
                    LOG.warn("forget tag {} of {} in the store: {}", key.tag(), key.name(), e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("forget tag {} of {}: the writer is busy", key.tag(), key.name());
        }
    }

    /** Keeps the rate limit an upstream answer states (Docker Hub's headers). */
    private void observe(UpstreamClient.Exchange ex) {
        RateLimitInfo.parse(ex::header).ifPresent(rateLimit::set);
    }

    private byte[] readManifest(UpstreamClient.Exchange ex, String action) throws IOException {
        long length = ex.contentLength();
        if (length > Manifest.MAX_BYTES) {
            ex.abort();
            throw new OciException(OciErrorCode.MANIFEST_TOO_LARGE, action + ": " + length + " bytes");
        }
        InputStream in = ex.body();
        try {
            byte[] content = Bodies.readCapped(in, Manifest.MAX_BYTES, true, action);
            in.close();
            return content;
        } catch (IOException e) {
            ex.abort();
            throw ex.failure(e);
        } catch (RuntimeException e) {
            ex.abort();
            throw e;
        }
    }

    private byte[] readStored(BlobInfo blob) throws IOException {
        byte[] content = new byte[(int) blob.size()];
        OutputStream out = new OutputStream() {
            private int position;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (position + len > content.length) {
                    throw new IOException(blob.digest() + ": more bytes than its size");
                }
                System.arraycopy(b, off, content, position, len);
                position += len;
            }
        };
        blobs.copyTo(blob, out);
        return content;
    }

    private static String mediaType(String contentType, byte[] content) {
        String header = MediaTypes.base(contentType);
        if (header != null && !header.isEmpty() && !header.equals("application/json")
                && !header.equals("text/plain")) {
            return header;
        }
        try {
            return Manifest.parse(content, null).mediaType();
        } catch (OciException e) {
            return header != null && !header.isEmpty() ? header : MediaTypes.OCI_MANIFEST;
        }
    }

    /**
     * Caches verified manifest bytes, learns the sizes of the blobs they list, and mirrors them into IPFS
     * in the background.
     */
    private void remember(RepositoryName name, Digest digest, String mediaType, byte[] content, boolean store) {
        manifests.put(digest, new CachedManifest(mediaType, content));
        try {
            Manifest manifest = Manifest.parse(content, null);
            for (Descriptor d : manifest.blobs()) {
                sizes.put(new BlobKey(name, d.digest()), d.size());
            }
        } catch (OciException e) {
            LOG.debug("manifest {} of {} does not parse; its blob sizes are not known", digest, name);
        }
        if (!config.mirror() || !store) {
            return;
        }
        try {
            mirrorThreads.execute(() -> {
                try {
                    blobs.put(new ByteArrayInputStream(content), digest);
                    cacheListener.stored(config.name(), name, digest, content.length);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("mirror manifest {} into IPFS: {}", digest, e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("mirror manifest {}: mirror threads busy, kept in memory only", digest);
        }
    }

    // ---------------------------------------------------------------- blobs

    /**
     * A blob. When IPFS holds it (already, or after a concurrent fetch), returns it and the caller
     * serves it from IPFS (with its own Range handling). Otherwise streams the upstream answer into
     * {@code sink} and returns empty: a HEAD passes the upstream's headers on; a GET (whole or a range,
     * see {@link ResponseSink#range}) reads the whole blob from the upstream, verified, and sends the part
     * asked for; with {@code upstream.mirror} it is mirrored into IPFS while it streams.
     */
    public Optional<BlobInfo> blob(RepositoryName name, Digest digest, boolean head, ResponseSink sink)
            throws IOException {
        Optional<BlobInfo> stored = mirroredStat(digest);
        if (stored.isPresent()) {
            cacheListener.served(digest);
            client.stats().hit();
            return stored;
        }
        checkKnown(name);
        client.stats().miss();
        String action = "pull blob " + digest + " of " + name;
        URI uri = client.endpoint().resolve(name, "blobs/" + digest, null);
        Long known = sizes.getIfPresent(new BlobKey(name, digest));
        if (head) {
            try (UpstreamClient.Exchange ex = client.send(action, "HEAD", uri, scope(name), Map.of(),
                    UpstreamClient.Kind.BLOB)) {
                if (ex.status() != 200) {
                    throw refuse(action, name, ex);
                }
                long length = ex.contentLength();
                if (known != null && length >= 0 && length != known) {
                    throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": the upstream declared " + length
                            + " bytes, its manifest " + known);
                }
                sink.status(200);
                blobHeaders(digest, sink);
                if (length >= 0 || known != null) {
                    sink.contentLength(length >= 0 ? length : known);
                }
                return Optional.empty();
            }
        }
        BlobMirror.Request request = new BlobMirror.Request(digest, known == null ? -1 : known, action);
        BlobMirror.Fetch fetch = () -> client.send(action, "GET", uri, scope(name), Map.of(),
                UpstreamClient.Kind.BLOB);
        BlobMirror.Refusal refusal = ex -> refuse(action, name, ex);
        if (!config.mirror()) {
            mirror.stream(request, fetch, refusal, sink);
            return Optional.empty();
        }
        mirroringNames.put(digest, name);
        Optional<BlobInfo> served = mirror.serve(request, fetch, refusal, sink);
        if (served.isPresent()) {
            cacheListener.served(digest);
        }
        return served;
    }

    /** A stored blob or manifest that came from an upstream (see {@link CacheListener#holds}); pushed-only content is not the mirror's. */
    private Optional<BlobInfo> mirroredStat(Digest digest) throws IOException {
        Optional<BlobInfo> stored = blobs.stat(digest);
        return stored.isPresent() && cacheListener.holds(digest) ? stored : Optional.empty();
    }

    private static void blobHeaders(Digest digest, ResponseSink sink) {
        sink.header("Docker-Content-Digest", digest.toString());
        sink.header("ETag", "\"" + digest + "\"");
        sink.header("Accept-Ranges", "bytes");
        sink.header("Content-Type", "application/octet-stream");
    }

    // ---------------------------------------------------------------- tags and referrers

    /** {@code tags/list} of a name upstream, with {@code n} and {@code last} passed on; the last good copy on failure. */
    public UpstreamDocument tags(RepositoryName name, String query) throws IOException {
        checkKnown(name);
        TagsKey key = new TagsKey(name, query == null ? "" : query);
        String action = "list tags of " + name;
        URI uri = client.endpoint().resolve(name, "tags/list", query);
        try (UpstreamClient.Exchange ex = client.send(action, "GET", uri, scope(name),
                Map.of("Accept", "application/json"), UpstreamClient.Kind.DOCUMENT)) {
            if (ex.status() != 200) {
                throw refuse(action, name, ex);
            }
            byte[] body = readManifest(ex, action);
            Map<String, String> headers = new LinkedHashMap<>();
            String link = ex.header("Link");
            if (link != null) {
                headers.put("Link", link.replace("/v2/" + client.endpoint().remoteName(name) + "/",
                        "/v2/" + name + "/"));
            }
            UpstreamDocument document = new UpstreamDocument(200, "application/json", renamed(body, name), headers,
                    false);
            lastTags.put(key, document);
            return document;
        } catch (OciException | UpstreamErrorException e) {
            UpstreamDocument last = lastTags.getIfPresent(key);
            if (last != null && isUpstreamFailure(e)) {
                LOG.warn("{}: upstream failed ({}); serving the last list", action, e.getMessage());
                return new UpstreamDocument(last.status(), last.contentType(), last.body(), last.headers(), true);
            }
            if (isUpstreamFailure(e) && key.query().isEmpty()) {
                Optional<UpstreamDocument> kept = keptTags(name);
                if (kept.isPresent()) {
                    LOG.warn("{}: upstream failed ({}); serving the tags kept in the store", action, e.getMessage());
                    return kept.get();
                }
            }
            throw e;
        }
    }

    /** The tags kept in the store for a name (after a restart, with the upstream down), as a stale list. */
    private Optional<UpstreamDocument> keptTags(RepositoryName name) {
        if (persisted == null) {
            return Optional.empty();
        }
        try {
            List<String> kept = persisted.tags(config.name(), name);
            if (kept.isEmpty()) {
                return Optional.empty();
            }
            ObjectNode body = JSON.createObjectNode();
            body.put("name", name.value());
            kept.forEach(body.putArray("tags")::add);
            return Optional.of(new UpstreamDocument(200, "application/json", JSON.writeValueAsBytes(body), Map.of(),
                    true));
        } catch (IOException | RuntimeException e) {
            LOG.warn("list the kept tags of {}: {}", name, e.toString());
            return Optional.empty();
        }
    }

    /** The upstream's tags list names the remote repository ({@code library/alpine}); the client asked for {@code alpine}. */
    private byte[] renamed(byte[] body, RepositoryName name) {
        if (client.endpoint().remoteName(name).equals(name.value())) {
            return body;
        }
        try {
            JsonNode root = JSON.readTree(body);
            if (root instanceof ObjectNode object && object.has("name")) {
                object.put("name", name.value());
                return JSON.writeValueAsBytes(object);
            }
        } catch (IOException e) {
            LOG.debug("tags list of {} is not JSON; passed on as is", name);
        }
        return body;
    }

    /** Referrers of a digest upstream; an upstream without the referrers API gives an empty index. */
    public UpstreamDocument referrers(RepositoryName name, Digest digest, String query) throws IOException {
        checkKnown(name);
        String action = "list referrers of " + digest + " in " + name;
        URI uri = client.endpoint().resolve(name, "referrers/" + digest, query);
        try (UpstreamClient.Exchange ex = client.send(action, "GET", uri, scope(name),
                Map.of("Accept", MediaTypes.OCI_INDEX), UpstreamClient.Kind.DOCUMENT)) {
            if (ex.status() == 404) {
                byte[] empty = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
                        + "\",\"manifests\":[]}").getBytes(StandardCharsets.UTF_8);
                return new UpstreamDocument(200, MediaTypes.OCI_INDEX, empty, Map.of(), false);
            }
            if (ex.status() != 200) {
                throw refuse(action, name, ex);
            }
            byte[] body = readManifest(ex, action);
            Map<String, String> headers = new LinkedHashMap<>();
            if (ex.header("OCI-Filters-Applied") != null) {
                headers.put("OCI-Filters-Applied", ex.header("OCI-Filters-Applied"));
            }
            return new UpstreamDocument(200, MediaTypes.OCI_INDEX, body, headers, false);
        }
    }

    // ---------------------------------------------------------------- errors

    private String scope(RepositoryName name) {
        return "repository:" + client.endpoint().remoteName(name) + ":pull";
    }

    private void checkKnown(RepositoryName name) {
        UpstreamErrorException unknown = unknownNames.getIfPresent(name);
        if (unknown != null) {
            throw new UpstreamErrorException("repository " + name + " (cached)", unknown.status(),
                    unknown.contentType(), unknown.body());
        }
    }

    /** The exception for a non-success upstream answer; the body is read whole under a cap. */
    private RuntimeException refuse(String action, RepositoryName name, UpstreamClient.Exchange ex)
            throws IOException {
        int status = ex.status();
        if (status < 400) {
            // a redirect of a document, or a success of the wrong kind: nothing to pass on
            ex.abort();
            LOG.warn("{}: the upstream answered {}", action, status);
            return new OciException(OciErrorCode.BAD_GATEWAY, action + ": the upstream answered " + status);
        }
        if (status == 429) {
            String retryAfter = ex.header("Retry-After");
            ex.abort();
            return new OciException(OciErrorCode.TOOMANYREQUESTS, action + ": the upstream is rate limiting"
                    + (retryAfter == null ? "" : "; retry after " + retryAfter))
                    .withHeader("Retry-After", retryAfter == null ? "60" : retryAfter);
        }
        byte[] body;
        try {
            body = ex.smallBody(ERROR_CAP);
        } catch (IOException e) {
            ex.abort();
            LOG.debug("{}: reading the upstream's {} answer: {}", action, status, e.toString());
            body = new byte[0];
        }
        if (status == 401) {
            LOG.debug("{}: the upstream answered 401: {}", action,
                    new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8).trim());
            return new OciException(OciErrorCode.DENIED, action + ": the upstream refused "
                    + (config.username() == null || config.username().isEmpty() ? "anonymous access"
                    : "the credentials of " + config.username()));
        }
        UpstreamErrorException error = new UpstreamErrorException(action, status, ex.header("Content-Type"), body);
        if (status == 404 && error.mentions("NAME_UNKNOWN")) {
            unknownNames.put(name, error);
        }
        return error;
    }

    /** Longest wait at close for tags still on their way into the store. */
    private static final Duration TAG_DRAIN = Duration.ofSeconds(10);

    @Override
    public void close() {
        tagWriter.shutdown();
        try {
            if (!tagWriter.awaitTermination(TAG_DRAIN.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} tags were not kept in the store before close", tagWriter.getQueue().size());
                tagWriter.shutdownNow();
            }
        } catch (InterruptedException e) {
            tagWriter.shutdownNow();
            Thread.currentThread().interrupt();
        }
        mirrorThreads.shutdownNow();
        client.close();
        try {
            spool.close();
        } catch (IOException e) {
            LOG.warn("deleting the mirror spool {}: {}", spool.dir(), e.toString());
        }
    }
}
