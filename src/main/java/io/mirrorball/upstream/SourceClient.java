package io.mirrorball.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.credentials.CredentialResolver;
import io.mirrorball.credentials.Credentials;
import io.mirrorball.credentials.CredentialsException;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.RateLimitedException;
import io.mirrorball.migrate.source.BlobStream;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of one source registry (its API base, http or https) for {@code migrate}: manifests (bytes as
 * served, digest checked), blobs from an offset, tag and catalog listings page by page, and referrers.
 * Authentication, redirects, deadlines and address rules are {@link UpstreamClient}'s; credentials are asked
 * for per repository, and only when the registry wants them.
 *
 * <p>Every failure is a {@link MigrateException}: 404 is {@code NOT_FOUND}, 401 and 403 are {@code DENIED},
 * a connection that fails or times out is {@code UNREACHABLE} (as are 5xx answers, which the engine may
 * retry), and 429 is a {@link RateLimitedException} with the wait the registry asked for. Messages name the
 * image, never a URL or a secret. Thread-safe.
 */
public final class SourceClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A listing page (tags, catalog, referrers) is at most this big. */
    public static final int PAGE_CAP = 4 * 1024 * 1024;
    /** A listing follows at most this many pages. */
    public static final int MAX_PAGES = 10_000;
    private static final int ERROR_CAP = 64 * 1024;
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]*)>\\s*;[^,]*rel=\"?next\"?",
            Pattern.CASE_INSENSITIVE);

    /**
     * Timeouts and pool size, each set on purpose: {@code documentDeadline} bounds a whole document
     * exchange (manifest, listing page, token); a blob body must bring at least 64 KiB per
     * {@code blobWindow}.
     */
    public record Settings(Duration connectTimeout, Duration readTimeout, Duration documentDeadline,
                           Duration blobWindow, int maxConnections) {
        public Settings {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(readTimeout, "readTimeout");
            Objects.requireNonNull(documentDeadline, "documentDeadline");
            Objects.requireNonNull(blobWindow, "blobWindow");
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1");
            }
        }

        /** 5 s to connect, 30 s per read, 60 s per document, 64 KiB per 60 s of blob, 64 connections. */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(60),
                    Duration.ofSeconds(60), 64);
        }

        UpstreamClient.Settings http() {
            return new UpstreamClient.Settings(connectTimeout, readTimeout, maxConnections, documentDeadline,
                    blobWindow, 64 * 1024);
        }
    }

    private final UpstreamEndpoint endpoint;
    private final String registry;
    private final Function<String, Supplier<Credentials>> credentials;
    private final Map<String, Supplier<Credentials>> perRepository = new ConcurrentHashMap<>();
    private final UpstreamClient client;
    private final Clock clock;
    private final AtomicReference<RateLimitInfo> rateLimit = new AtomicReference<>();

    private SourceClient(UpstreamEndpoint endpoint, Function<String, Supplier<Credentials>> credentials,
                         Settings settings, Clock clock) {
        this.endpoint = endpoint;
        this.registry = registryKey(endpoint);
        this.credentials = credentials;
        this.clock = clock;
        this.client = new UpstreamClient(endpoint, () -> credentialsFor(""), new TokenCache(Ticker.systemTicker()),
                settings.http(), AddressPolicy.of(endpoint.base().getHost(), List.of()));
    }

    /**
     * A client of the registry at {@code base} ({@code https://host[:port]}, {@code http://...} for a plain-HTTP
     * registry; any Docker Hub alias means {@code https://registry-1.docker.io}).
     *
     * @param credentials the credentials for a repository (the catalog asks for repository {@code ""});
     *                    each supplier is asked only when the registry wants credentials, and kept per
     *                    repository
     * @throws IllegalArgumentException when {@code base} is not an http(s) URL with a host
     */
    public static SourceClient open(URI base, Function<String, Supplier<Credentials>> credentials,
                                    Settings settings) {
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(settings, "settings");
        return new SourceClient(UpstreamEndpoint.parse(base.toString()), credentials, settings, Clock.systemUTC());
    }

    /** As {@link #open(URI, Function, Settings)}, with the credentials {@code resolver} finds for this registry. */
    public static SourceClient open(URI base, CredentialResolver resolver, Settings settings) {
        UpstreamEndpoint endpoint = UpstreamEndpoint.parse(base.toString());
        String key = registryKey(endpoint);
        return new SourceClient(endpoint, repository -> resolver.supplier(key, repository), settings,
                Clock.systemUTC());
    }

    /** The canonical registry name: {@code docker.io} for Docker Hub, else {@code host[:port]}. */
    public String registry() {
        return registry;
    }

    /** Whether this is Docker Hub (whose one-component names live under {@code library/}). */
    public boolean dockerHub() {
        return endpoint.dockerHub();
    }

    /** Docker Hub's pull limit as the last manifest response stated it; empty when no response has. */
    public Optional<RateLimitInfo> rateLimit() {
        return Optional.ofNullable(rateLimit.get());
    }

    private static String registryKey(UpstreamEndpoint endpoint) {
        if (endpoint.dockerHub()) {
            return "docker.io";
        }
        URI base = endpoint.base();
        return base.getHost().toLowerCase(Locale.ROOT) + (base.getPort() >= 0 ? ":" + base.getPort() : "");
    }

    private Credentials credentialsFor(String repository) {
        return supplier(repository).get();
    }

    private Supplier<Credentials> supplier(String repository) {
        return perRepository.computeIfAbsent(repository, r -> {
            Supplier<Credentials> found = credentials.apply(r);
            return found == null ? () -> Credentials.ANONYMOUS : found;
        });
    }

    /** A manifest by tag or digest: bytes as served (at most {@link Manifest#MAX_BYTES}), digest checked. */
    public Fetched manifest(String repository, Reference reference) {
        String image = image(repository, reference);
        URI uri = uri(repository, "manifests/" + reference, null);
        try (UpstreamClient.Exchange ex = send(image, "GET", uri, repository, Map.of("Accept", UpstreamRegistry.ACCEPT),
                UpstreamClient.Kind.DOCUMENT)) {
            RateLimitInfo.parse(ex::header).ifPresent(rateLimit::set);
            if (ex.status() != 200) {
                throw refuse(image, repository, ex);
            }
            byte[] content = readCapped(ex, image, Manifest.MAX_BYTES, true);
            Digest digest;
            if (reference.isDigest()) {
                digest = reference.digest();
            } else {
                String announced = ex.header("Docker-Content-Digest");
                digest = announced != null && Digest.isDigest(announced.trim()) ? Digest.parse(announced.trim())
                        : Digest.ofBytes(content);
            }
            if (!Arrays.equals(digest.newMessageDigest().digest(content), digest.bytes())) {
                LOG.warn("{}: the registry sent bytes of {} for {}", image, Digest.ofBytes(content), digest);
                throw new MigrateException(FailureKind.INVALID_SOURCE, image
                        + ": the registry sent a manifest that does not match its digest " + digest);
            }
            return new Fetched(content, mediaType(ex.header("Content-Type"), content), digest);
        } catch (IOException e) {
            throw unreachable(image, e);
        }
    }

    /**
     * A blob from {@code offset}: with {@code Range: bytes=offset-} when offset is over 0. A 206 gives a stream
     * from offset; a 200 (the registry ignored the range) a stream from 0. Redirects are followed, and
     * credentials go to the registry only. Closing the stream before its end drops the connection.
     */
    public BlobStream blob(String repository, Descriptor blob, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        String image = repository + "@" + blob.digest();
        URI uri = uri(repository, "blobs/" + blob.digest(), null);
        Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        UpstreamClient.Exchange ex = send("blob " + image, "GET", uri, repository, headers, UpstreamClient.Kind.BLOB);
        try {
            int status = ex.status();
            long start;
            if (status == 200) {
                start = 0;
            } else if (status == 206 && offset > 0 && rangeStart(ex.header("Content-Range")) == offset) {
                start = offset;
            } else if (status == 206) {
                ex.abort();
                throw new MigrateException(FailureKind.INVALID_SOURCE, "blob " + image
                        + ": the registry sent a range that was not asked for");
            } else {
                throw refuse("blob " + image, repository, ex);
            }
            return new BlobStream(new ExchangeStream(ex, ex.blobBody()), start);
        } catch (IOException e) {
            ex.abort();
            closeQuietly(ex);
            throw unreachable("blob " + image, e);
        } catch (RuntimeException e) {
            closeQuietly(ex);
            throw e;
        }
    }

    /** Every tag of a repository, following {@code Link} pages of {@code pageSize}. */
    public List<String> tags(String repository, int pageSize) {
        List<String> all = new ArrayList<>();
        listTags(repository, pageSize).forEachRemaining(all::add);
        return all;
    }

    /** The tags of a repository, fetched a page at a time as the iterator is drained. */
    public Iterator<String> listTags(String repository, int pageSize) {
        return new Listing(repository, "tags of " + repository, uri(repository, "tags/list", "n=" + pageSize), "tags",
                false);
    }

    /** Every repository the registry lists ({@code _catalog}), following {@code Link} pages of {@code pageSize}. */
    public List<String> catalog(int pageSize) {
        List<String> all = new ArrayList<>();
        listCatalog(pageSize).forEachRemaining(all::add);
        return all;
    }

    /**
     * The registry's repositories, a page at a time. A registry that refuses {@code _catalog} (401, 403,
     * 404, 405) is {@code UNSUPPORTED}: its repositories must be named.
     */
    public Iterator<String> listCatalog(int pageSize) {
        return new Listing(null, "the repositories of " + registry,
                URI.create(endpoint.base() + "/v2/_catalog?n=" + pageSize), "repositories", true);
    }

    /**
     * The manifests whose subject is {@code subject}: the referrers API ({@code /v2/<repo>/referrers/<digest>},
     * every page), else, when the registry answers 404 or something that is not an index, the tag
     * {@code sha256-<hex>} (an index of referrers). Empty when neither exists.
     */
    public List<Descriptor> referrers(String repository, Digest subject) {
        String what = "referrers of " + repository + "@" + subject;
        URI next = uri(repository, "referrers/" + subject, null);
        List<Descriptor> found = new ArrayList<>();
        for (int page = 0; next != null; page++) {
            if (page >= MAX_PAGES) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": more than " + MAX_PAGES + " pages");
            }
            try (UpstreamClient.Exchange ex = send(what, "GET", next, repository,
                    Map.of("Accept", MediaTypes.OCI_INDEX), UpstreamClient.Kind.DOCUMENT)) {
                if (ex.status() == 404 || (ex.status() == 200 && page == 0
                        && !MediaTypes.OCI_INDEX.equals(MediaTypes.base(ex.header("Content-Type"))))) {
                    ex.abort();
                    return referrersTag(repository, subject);
                }
                if (ex.status() != 200) {
                    throw refuse(what, repository, ex);
                }
                byte[] body = readCapped(ex, what, PAGE_CAP, false);
                Manifest index;
                try {
                    index = Manifest.parse(body, MediaTypes.OCI_INDEX);
                } catch (OciException e) {
                    if (page == 0) {
                        return referrersTag(repository, subject);
                    }
                    throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": a page is not an index");
                }
                found.addAll(index.manifests());
                next = nextPage(next, ex.header("Link"), what);
            } catch (IOException e) {
                throw unreachable(what, e);
            }
        }
        return found;
    }

    private List<Descriptor> referrersTag(String repository, Digest subject) {
        Fetched fetched;
        try {
            fetched = manifest(repository, Reference.ofTag(subject.algorithm() + "-" + subject.hex()));
        } catch (MigrateException e) {
            if (e.kind() == FailureKind.NOT_FOUND) {
                return List.of();
            }
            throw e;
        }
        if (!MediaTypes.isIndex(fetched.mediaType())) {
            return List.of();
        }
        try {
            return fetched.parse().manifests();
        } catch (OciException e) {
            return List.of();
        }
    }

    /** One listing (tags or catalog), a page at a time. */
    private final class Listing implements Iterator<String> {
        private final String repository;
        private final String what;
        private final String field;
        private final boolean catalog;
        private URI next;
        private int pages;
        private Iterator<String> page = java.util.Collections.emptyIterator();

        Listing(String repository, String what, URI first, String field, boolean catalog) {
            this.repository = repository;
            this.what = what;
            this.next = first;
            this.field = field;
            this.catalog = catalog;
        }

        @Override
        public boolean hasNext() {
            while (!page.hasNext() && next != null) {
                page = fetch().iterator();
            }
            return page.hasNext();
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return page.next();
        }

        private List<String> fetch() {
            if (++pages > MAX_PAGES) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": more than " + MAX_PAGES + " pages");
            }
            URI uri = next;
            try (UpstreamClient.Exchange ex = catalog
                    ? client.send(what, "GET", uri, "registry:catalog:*", Map.of("Accept", "application/json"),
                    UpstreamClient.Kind.DOCUMENT, supplier(""))
                    : send(what, "GET", uri, repository, Map.of("Accept", "application/json"),
                    UpstreamClient.Kind.DOCUMENT)) {
                int status = ex.status();
                if (catalog && (status == 401 || status == 403 || status == 404 || status == 405)) {
                    ex.abort();
                    throw new MigrateException(FailureKind.UNSUPPORTED,
                            "the registry does not list its repositories: name them");
                }
                if (status != 200) {
                    throw refuse(what, repository == null ? "" : repository, ex);
                }
                byte[] body = readCapped(ex, what, PAGE_CAP, false);
                List<String> names = names(body);
                next = nextPage(uri, ex.header("Link"), what);
                return names;
            } catch (IOException e) {
                throw unreachable(what, e);
            } catch (OciException e) {
                throw translate(what, e, repository == null ? "" : repository);
            } catch (CredentialsException e) {
                throw new MigrateException(FailureKind.DENIED, what + ": " + e.getMessage());
            }
        }

        private List<String> names(byte[] body) {
            JsonNode root;
            try {
                root = JSON.readTree(body);
            } catch (IOException e) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": the registry's listing is not JSON");
            }
            if (root == null || !root.isObject()) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": the registry's listing is not an object");
            }
            JsonNode list = root.get(field);
            List<String> names = new ArrayList<>();
            if (list == null || list.isNull()) {
                return names;
            }
            if (!list.isArray()) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": " + field + " is not a list");
            }
            for (JsonNode name : list) {
                if (!name.isTextual()) {
                    throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": " + field
                            + " holds something that is not a name");
                }
                names.add(name.asText());
            }
            return names;
        }
    }

    /** The next page a {@code Link} header names; null when none; it must stay on the registry's origin. */
    URI nextPage(URI current, String link, String what) {
        if (link == null) {
            return null;
        }
        Matcher m = LINK_NEXT.matcher(link);
        if (!m.find()) {
            return null;
        }
        URI next;
        try {
            next = current.resolve(new URI(m.group(1).trim()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, what + ": the registry's next page link is unusable");
        }
        if (next.getScheme() == null || next.getHost() == null || !endpoint.isSameOrigin(next)) {
            LOG.warn("{}: the registry's next page is on another origin: {}", what, link);
            throw new MigrateException(FailureKind.INVALID_SOURCE, what
                    + ": the registry's next page is on another host");
        }
        return next;
    }

    private UpstreamClient.Exchange send(String what, String method, URI uri, String repository,
                                         Map<String, String> headers, UpstreamClient.Kind kind) {
        try {
            return client.send(what, method, uri, "repository:" + repository + ":pull", headers, kind,
                    supplier(repository));
        } catch (OciException e) {
            throw translate(what, e, repository);
        } catch (CredentialsException e) {
            throw new MigrateException(FailureKind.DENIED, what + ": " + e.getMessage());
        }
    }

    /** The MigrateException for what {@link UpstreamClient} threw. */
    private MigrateException translate(String what, OciException e, String repository) {
        OciErrorCode code = e.code();
        if (code == OciErrorCode.TOOMANYREQUESTS) {
            return rateLimited(what, e.headers().get("Retry-After"));
        }
        if (code == OciErrorCode.DENIED || code == OciErrorCode.UNAUTHORIZED) {
            return new MigrateException(FailureKind.DENIED, what + ": the registry refused "
                    + UpstreamClient.describe(credentialsFor(repository)));
        }
        if (code == OciErrorCode.MANIFEST_TOO_LARGE) {
            return new MigrateException(FailureKind.UNSUPPORTED, what + ": the manifest is over "
                    + Manifest.MAX_BYTES + " bytes");
        }
        if (code == OciErrorCode.GATEWAY_TIMEOUT) {
            return new MigrateException(FailureKind.UNREACHABLE, what + ": the registry timed out", e);
        }
        return new MigrateException(FailureKind.UNREACHABLE, what + ": the registry is unreachable", e);
    }

    private RateLimitedException rateLimited(String what, String retryAfter) {
        java.time.Duration wait = RateLimitedException.parseRetryAfter(retryAfter, clock.instant());
        return new RateLimitedException(what + ": the registry is rate limiting; retry after " + wait.toSeconds()
                + " s", wait);
    }

    private static MigrateException unreachable(String what, IOException e) {
        LOG.debug("{}: {}", what, e.toString());
        boolean timeout = e instanceof java.io.InterruptedIOException;
        return new MigrateException(FailureKind.UNREACHABLE, what + ": "
                + (timeout ? "the registry timed out" : "the connection to the registry failed"), e);
    }

    /** The failure for a non-success answer; the exchange's body is drained under a cap or dropped. */
    private MigrateException refuse(String what, String repository, UpstreamClient.Exchange ex) {
        int status = ex.status();
        String retryAfter = ex.header("Retry-After");
        byte[] body = new byte[0];
        if (status >= 400 && status != 429) {
            try {
                body = ex.smallBody(ERROR_CAP);
            } catch (IOException e) {
                ex.abort();
            }
        } else {
            ex.abort();
        }
        LOG.debug("{}: the registry answered {}: {}", what, status,
                new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8).trim());
        if (status == 404) {
            return new MigrateException(FailureKind.NOT_FOUND, what + ": not found");
        }
        if (status == 401 || status == 403) {
            return new MigrateException(FailureKind.DENIED, what + ": the registry refused "
                    + UpstreamClient.describe(credentialsFor(repository)));
        }
        if (status == 429) {
            return rateLimited(what, retryAfter);
        }
        if (status >= 500) {
            return new MigrateException(FailureKind.UNREACHABLE, what + ": the registry answered " + status);
        }
        return new MigrateException(FailureKind.INVALID_SOURCE, what + ": the registry answered " + status);
    }

    private static byte[] readCapped(UpstreamClient.Exchange ex, String what, int cap, boolean manifest)
            throws IOException {
        long length = ex.contentLength();
        if (length > cap) {
            ex.abort();
            throw tooBig(what, cap, manifest);
        }
        InputStream in = ex.body();
        try {
            byte[] content = Bodies.readCapped(in, cap + 1, false, what);
            if (content.length > cap) {
                ex.abort();
                throw tooBig(what, cap, manifest);
            }
            in.close();
            return content;
        } catch (IOException e) {
            ex.abort();
            throw e;
        }
    }

    private static MigrateException tooBig(String what, int cap, boolean manifest) {
        return new MigrateException(manifest ? FailureKind.UNSUPPORTED : FailureKind.INVALID_SOURCE, what
                + ": " + (manifest ? "the manifest" : "a listing page") + " is over " + cap + " bytes");
    }

    /** The first byte position of {@code Content-Range: bytes a-b/n}, or -1. */
    static long rangeStart(String contentRange) {
        if (contentRange == null) {
            return -1;
        }
        Matcher m = Pattern.compile("^\\s*bytes\\s+(\\d+)-\\d+/(\\d+|\\*)\\s*$").matcher(contentRange);
        try {
            return m.matches() ? Long.parseLong(m.group(1)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
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

    private static String image(String repository, Reference reference) {
        return repository + (reference.isDigest() ? "@" : ":") + reference;
    }

    private URI uri(String repository, String suffix, String query) {
        String q = query == null ? "" : "?" + query;
        return URI.create(endpoint.base() + "/v2/" + repository + "/" + suffix + q);
    }

    private static void closeQuietly(UpstreamClient.Exchange ex) {
        try {
            ex.close();
        } catch (IOException e) {
            LOG.debug("closing a registry response: {}", e.toString());
        }
    }

    /** A blob body that ends its exchange when closed, dropping the connection when the body was not read to its end. */
    private static final class ExchangeStream extends FilterInputStream {
        private final UpstreamClient.Exchange exchange;
        private boolean ended;
        private boolean closed;

        ExchangeStream(UpstreamClient.Exchange exchange, InputStream in) {
            super(in);
            this.exchange = exchange;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            ended |= b < 0;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            ended |= n < 0;
            return n;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (!ended) {
                exchange.abort();
            }
            try {
                super.close();
            } catch (IOException e) {
                LOG.debug("closing a blob body: {}", e.toString());
            } finally {
                exchange.close();
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
