package io.mirrorball.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.credentials.Credentials;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one caller of the upstream registry. It answers auth challenges (Bearer with a challenge and a token
 * per scope, Basic when asked), follows redirects itself (for blobs only, so that Authorization never
 * reaches another host and a redirect target's answer is never relayed as a document), and retries only
 * what is safe: a GET or HEAD whose pooled connection turned out to be dead before any response.
 *
 * <p>Every exchange is bounded. A document (manifest, tags, referrers, token, HEAD) has one total deadline
 * from the first byte sent to the last byte read, enforced by cancelling the request. A blob has the same
 * deadline until its response starts, then must make minimum progress per window (large blobs
 * legitimately take long; a trickle does not). Connections only go where {@link AddressPolicy} allows.
 * Failures before a response become 502 (unreachable) or 504 (timeout), with messages that name the action
 * but never the upstream's URLs; the details go to the log.
 */
final class UpstreamClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 5;
    /** Token responses are small JSON documents (a few KiB); more is refused. */
    static final int TOKEN_CAP = 256 * 1024;

    /**
     * Timeouts, bounds and pool size; every one set on purpose. {@code documentDeadline} bounds a whole
     * document exchange (and a blob exchange up to its response); a blob body must bring at least
     * {@code blobMinBytes} per {@code blobWindow}.
     */
    record Settings(Duration connectTimeout, Duration readTimeout, int maxConnections, Duration documentDeadline,
                    Duration blobWindow, long blobMinBytes) {
        Settings(Duration connectTimeout, Duration readTimeout, int maxConnections) {
            this(connectTimeout, readTimeout, maxConnections, Duration.ofSeconds(60), Duration.ofSeconds(60),
                    64 * 1024);
        }

        static Settings defaults() {
            return new Settings(Duration.ofSeconds(5), Duration.ofSeconds(30), 64);
        }
    }

    /** What an exchange fetches, which decides its bounds and whether redirects are followed. */
    enum Kind { DOCUMENT, BLOB }

    private final UpstreamEndpoint endpoint;
    /** Who mirrorball is at the upstream; asked for only when the upstream wants credentials. */
    private final Supplier<Credentials> credentials;
    private final TokenCache tokens;
    private final Settings settings;
    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient http;
    private final ScheduledThreadPoolExecutor timers;
    private final AtomicLong requests = new AtomicLong();
    /** The Bearer challenge per scope, once a token was obtained with it, so later requests authenticate up front. */
    private final Cache<String, AuthChallenge> challenges = Caffeine.newBuilder()
            .maximumSize(10_000)
            .expireAfterWrite(Duration.ofHours(1))
            .build();
    private final UpstreamStats stats = new UpstreamStats(java.time.Clock.systemUTC());
    /** The upstream asked for Basic: later requests send the credentials up front. */
    private volatile boolean basic;

    /**
     * @param credentials who mirrorball is at the upstream by default ({@link #send(String, String, URI, String,
     *                    Map, Kind, Supplier)} may name others per request); called only when the upstream
     *                    asks for credentials, so a lazy lookup runs only then
     */
    UpstreamClient(UpstreamEndpoint endpoint, Supplier<Credentials> credentials, TokenCache tokens, Settings settings,
                   AddressPolicy addresses) {
        this.endpoint = endpoint;
        this.credentials = credentials;
        this.tokens = tokens;
        this.settings = settings;
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(addresses)
                .setMaxConnTotal(settings.maxConnections())
                .setMaxConnPerRoute(settings.maxConnections())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        .setSocketTimeout(Timeout.of(settings.readTimeout()))
                        .setTimeToLive(Timeout.ofMinutes(5))
                        .setValidateAfterInactivity(Timeout.ofSeconds(2))
                        .build())
                .build();
        this.http = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(settings.connectTimeout()))
                        .setResponseTimeout(Timeout.of(settings.readTimeout()))
                        .setRedirectsEnabled(false)
                        .build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableContentCompression()
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent("mirrorball")
                .build();
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mirrorball-upstream-deadlines");
            t.setDaemon(true);
            return t;
        });
        this.timers.setRemoveOnCancelPolicy(true);
    }

    UpstreamEndpoint endpoint() {
        return endpoint;
    }

    /** Hits, misses, errors and the last contact of this upstream. */
    UpstreamStats stats() {
        return stats;
    }

    /** How many HTTP requests went to the upstream (and redirect hosts and the token service). */
    long requestCount() {
        return requests.get();
    }

    /**
     * The total deadline of one exchange: when it passes, the request in flight is cancelled (its
     * connection closed), which ends a blocked read at once.
     */
    static final class Deadline {
        private final AtomicReference<HttpUriRequestBase> current = new AtomicReference<>();
        private final ScheduledFuture<?> timer;
        private volatile boolean expired;

        private Deadline(ScheduledExecutorService timers, Duration limit) {
            this.timer = timers.schedule(this::expire, limit.toNanos(), TimeUnit.NANOSECONDS);
        }

        private void expire() {
            expired = true;
            HttpUriRequestBase request = current.get();
            if (request != null) {
                request.cancel();
            }
        }

        void watch(HttpUriRequestBase request) {
            current.set(request);
            if (expired) {
                request.cancel();
            }
        }

        void disarm() {
            timer.cancel(false);
        }

        boolean expired() {
            return expired;
        }
    }

    /** An upstream response with its body still unread; close it (abort it to drop the connection). */
    final class Exchange implements AutoCloseable {
        private final String action;
        private final Deadline deadline;
        private final HttpUriRequestBase request;
        private final ClassicHttpResponse response;

        private Exchange(String action, Deadline deadline, HttpUriRequestBase request, ClassicHttpResponse response) {
            this.action = action;
            this.deadline = deadline;
            this.request = request;
            this.response = response;
        }

        int status() {
            return response.getCode();
        }

        /** The first value of a header, or null. */
        String header(String name) {
            Header h = response.getFirstHeader(name);
            return h == null ? null : h.getValue();
        }

        /** The declared length, or -1 when the upstream declared none (or nonsense). */
        long contentLength() {
            HttpEntity entity = response.getEntity();
            if (entity != null && entity.getContentLength() >= 0) {
                return entity.getContentLength();
            }
            String value = header("Content-Length");
            try {
                return value == null ? -1 : Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        /** The body of a document; the exchange's total deadline keeps running while it is read. */
        InputStream body() throws IOException {
            HttpEntity entity = response.getEntity();
            return entity == null ? InputStream.nullInputStream() : entity.getContent();
        }

        /** The body of a blob: the total deadline ends, the minimum-progress guard begins. */
        InputStream blobBody() throws IOException {
            deadline.disarm();
            return new ProgressGuard(body(), settings.blobWindow(), settings.blobMinBytes());
        }

        /**
         * Reads a small body whole (an error document), at most {@code cap} bytes; a longer one is cut and
         * its connection dropped (closing it would read the rest, which may never end).
         */
        byte[] smallBody(int cap) throws IOException {
            InputStream in = body();
            byte[] body = Bodies.readCapped(in, cap + 1, false, "upstream body");
            if (body.length > cap) {
                abort();
                return java.util.Arrays.copyOf(body, cap);
            }
            in.close();
            return body;
        }

        /** The error for an I/O failure while reading this exchange's body: 504 once the deadline passed. */
        OciException failure(IOException e) {
            return UpstreamClient.failure(action, e, deadline.expired());
        }

        /** Drops the connection without reading the rest of the body. */
        void abort() {
            request.cancel();
        }

        @Override
        public void close() throws IOException {
            deadline.disarm();
            response.close();
        }
    }

    /**
     * A blob body that fails when the upstream brings less than {@code minBytes} per {@code window} of time
     * spent waiting for it: a trickle is a stall. Only the time inside {@code read} counts, so a slow client
     * (which makes mirrorball read slowly) is never blamed on the upstream.
     */
    static final class ProgressGuard extends FilterInputStream {
        private final long windowNanos;
        private final long minBytes;
        private long waitedNanos;
        private long windowBytes;

        ProgressGuard(InputStream in, Duration window, long minBytes) {
            super(in);
            this.windowNanos = window.toNanos();
            this.minBytes = minBytes;
        }

        @Override
        public int read() throws IOException {
            long start = System.nanoTime();
            int b = super.read();
            check(b < 0 ? -1 : 1, start);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long start = System.nanoTime();
            int n = super.read(b, off, len);
            check(n, start);
            return n;
        }

        private void check(int n, long start) throws IOException {
            if (n < 0) {
                return;
            }
            windowBytes += n;
            waitedNanos += System.nanoTime() - start;
            if (waitedNanos >= windowNanos) {
                if (windowBytes < minBytes) {
                    throw new InterruptedIOException("the upstream sent " + windowBytes + " bytes in "
                            + Duration.ofNanos(waitedNanos).toMillis() + " ms, less than " + minBytes);
                }
                waitedNanos = 0;
                windowBytes = 0;
            }
        }
    }

    /**
     * Sends a request and returns the final response, after auth and (for a blob) redirects, with the
     * exchange's deadline running. A redirect for a blob that ends in anything but 200 or 206 is a 502:
     * a redirect target's answer is never passed on.
     *
     * @param action what the request is for, for error messages ("pull manifest v1 of alpine")
     * @param scope  the token scope, e.g. {@code repository:library/alpine:pull}
     */
    Exchange send(String action, String method, URI uri, String scope, Map<String, String> headers, Kind kind) {
        return send(action, method, uri, scope, headers, kind, credentials);
    }

    /** As {@link #send(String, String, URI, String, Map, Kind)}, as {@code who} rather than the default credentials. */
    Exchange send(String action, String method, URI uri, String scope, Map<String, String> headers, Kind kind,
                  Supplier<Credentials> who) {
        Deadline deadline = new Deadline(timers, settings.documentDeadline());
        try {
            Exchange exchange = send(action, method, uri, scope, headers, kind, deadline, who);
            stats.answered(exchange.status());
            return exchange;
        } catch (RuntimeException e) {
            deadline.disarm();
            stats.failed();
            throw e;
        }
    }

    private Exchange send(String action, String method, URI uri, String scope, Map<String, String> headers, Kind kind,
                          Deadline deadline, Supplier<Credentials> who) {
        URI target = uri;
        boolean credentialsAllowed = true;
        boolean authRetried = false;
        boolean staleRetried = false;
        boolean redirected = false;
        int redirects = 0;
        while (true) {
            HttpUriRequestBase request = new HttpUriRequestBase(method, target);
            headers.forEach(request::setHeader);
            if (credentialsAllowed) {
                String authorization = authorization(scope, deadline, action, who);
                if (authorization != null) {
                    request.setHeader("Authorization", authorization);
                }
            }
            deadline.watch(request);
            ClassicHttpResponse response;
            try {
                requests.incrementAndGet();
                response = http.executeOpen(host(target), request, null);
            } catch (NoHttpResponseException e) {
                if (!staleRetried && !deadline.expired() && (method.equals("GET") || method.equals("HEAD"))) {
                    staleRetried = true;
                    LOG.debug("{} {}: pooled connection was dead, retrying once", method, target);
                    continue;
                }
                throw failure(action, e, deadline.expired());
            } catch (IOException e) {
                throw failure(action, e, deadline.expired());
            }
            int status = response.getCode();
            if (status == 401 && credentialsAllowed && !authRetried) {
                List<AuthChallenge> offered = AuthChallenge.parse(firstHeader(response, "WWW-Authenticate"));
                boolean retry;
                try {
                    retry = learn(offered, scope, deadline, action, who);
                } catch (RuntimeException e) {
                    discard(request, response);
                    throw e;
                }
                if (retry) {
                    authRetried = true;
                    discard(request, response);
                    continue;
                }
            }
            if (isRedirect(status) && kind == Kind.BLOB) {
                URI next = redirectTarget(target, firstHeader(response, "Location"));
                discard(request, response);
                if (next == null) {
                    LOG.warn("{}: the upstream redirected to an unusable location: {}", action,
                            firstHeader(response, "Location"));
                    throw new OciException(OciErrorCode.BAD_GATEWAY, action
                            + ": the upstream redirected to a location mirrorball does not follow");
                }
                if (++redirects > MAX_REDIRECTS) {
                    throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": more than " + MAX_REDIRECTS
                            + " redirects");
                }
                // credentials go to the upstream only, never to a CDN or object store it redirects to
                credentialsAllowed = credentialsAllowed && endpoint.isSameOrigin(next);
                redirected = true;
                target = next;
                continue;
            }
            if (redirected && status != 200 && status != 206) {
                discard(request, response);
                LOG.warn("{}: the redirect target {} answered {}", action, target.getHost(), status);
                throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": the upstream's blob storage answered "
                        + status);
            }
            return new Exchange(action, deadline, request, response);
        }
    }

    /** The absolute http(s) URI a Location points at, or null when there is none such. */
    static URI redirectTarget(URI from, String location) {
        if (location == null || location.isBlank()) {
            return null;
        }
        try {
            URI next = from.resolve(new URI(location.trim()));
            String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || next.getHost() == null
                    || next.getRawUserInfo() != null) {
                return null;
            }
            return next;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Maps a failure of an exchange: a refused address is 502, a timeout (or the deadline) 504, everything
     * else 502. The message names the action only; the cause goes to the log.
     */
    static OciException failure(String action, IOException e, boolean expired) {
        if (e instanceof AddressPolicy.BlockedAddressException) {
            LOG.warn("{}: {}", action, e.getMessage());
            return new OciException(OciErrorCode.BAD_GATEWAY, action
                    + ": the upstream sent mirrorball to an address it may not connect to", e);
        }
        boolean timeout = expired || e instanceof InterruptedIOException;
        OciErrorCode code = timeout ? OciErrorCode.GATEWAY_TIMEOUT : OciErrorCode.BAD_GATEWAY;
        String what = timeout ? "upstream timed out" : "upstream unreachable";
        LOG.warn("{}: {}: {}", action, what, e.toString());
        return new OciException(code, action + ": " + what, e);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static HttpHost host(URI uri) {
        return new HttpHost(uri.getScheme(), uri.getHost(), uri.getPort());
    }

    private static String firstHeader(ClassicHttpResponse response, String name) {
        Header h = response.getFirstHeader(name);
        return h == null ? null : h.getValue();
    }

    private static void discard(HttpUriRequestBase request, ClassicHttpResponse response) {
        try {
            HttpEntity entity = response.getEntity();
            if (entity != null && entity.getContentLength() >= 0 && entity.getContentLength() <= 64 * 1024) {
                try (InputStream in = entity.getContent()) {
                    in.skip(Long.MAX_VALUE);
                    while (in.read() >= 0) {
                        in.skip(Long.MAX_VALUE);
                    }
                }
            } else {
                request.cancel();
            }
            response.close();
        } catch (IOException e) {
            LOG.debug("discarding an upstream response: {}", e.toString());
        }
    }

    private static String scopeKey(String scope) {
        return scope == null ? "" : scope;
    }

    /** The Authorization value for a request of this scope, or null to send none. */
    private String authorization(String scope, Deadline deadline, String action, Supplier<Credentials> who) {
        AuthChallenge challenge = challenges.getIfPresent(scopeKey(scope));
        if (challenge != null) {
            try {
                if (who.get() instanceof Credentials.RegistryToken registryToken) {
                    return "Bearer " + registryToken.token();
                }
                return "Bearer " + token(challenge, wanted(challenge, scope), false, deadline, action, who);
            } catch (RuntimeException e) {
                // a token service failing now: this request fails, the next one starts from the challenge again
                challenges.invalidate(scopeKey(scope));
                throw e;
            }
        }
        if (basic && who.get() instanceof Credentials.Basic user) {
            return basicCredentials(user);
        }
        return null;
    }

    private static String wanted(AuthChallenge challenge, String scope) {
        return scope != null ? scope : challenge.param("scope");
    }

    /**
     * Takes in a 401's challenges; true when a retry can now succeed. A Bearer challenge is remembered
     * for its scope only once a token was obtained with it; a bad challenge fails this request only.
     */
    private boolean learn(List<AuthChallenge> offered, String scope, Deadline deadline, String action,
                          Supplier<Credentials> who) {
        for (AuthChallenge challenge : offered) {
            if (challenge.isBearer() && challenge.param("realm") != null) {
                if (who.get() instanceof Credentials.RegistryToken) {
                    // a ready token: sent as it is, no token service; a second 401 is the answer
                    if (challenges.getIfPresent(scopeKey(scope)) != null) {
                        return false;
                    }
                    challenges.put(scopeKey(scope), challenge);
                    return true;
                }
                String wanted = wanted(challenge, scope);
                tokens.invalidate(key(challenge, wanted));
                token(challenge, wanted, true, deadline, action, who);
                challenges.put(scopeKey(scope), challenge);
                return true;
            }
        }
        for (AuthChallenge challenge : offered) {
            if (challenge.isBasic() && !basic && who.get() instanceof Credentials.Basic) {
                basic = true;
                return true;
            }
        }
        return false;
    }

    private static String basicCredentials(Credentials.Basic user) {
        return "Basic " + Base64.getEncoder().encodeToString((user.user() + ":" + user.password())
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Who a refusal names: never a secret. */
    static String describe(Credentials credentials) {
        if (credentials instanceof Credentials.Basic b) {
            return "the credentials of " + b.user();
        }
        if (credentials instanceof Credentials.IdentityToken) {
            return "the identity token";
        }
        if (credentials instanceof Credentials.RegistryToken) {
            return "the registry token";
        }
        return "anonymous access";
    }

    private static TokenCache.Key key(AuthChallenge challenge, String scope) {
        return new TokenCache.Key(challenge.param("realm"), challenge.param("service"), scope);
    }

    /** The token service of a challenge: an absolute http(s) URL, else 502. */
    static URI realm(AuthChallenge challenge, String action) {
        URI realm = null;
        try {
            realm = new URI(challenge.param("realm").trim());
        } catch (URISyntaxException e) {
            // refused below
        }
        String scheme = realm == null || realm.getScheme() == null ? "" : realm.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || realm.getHost() == null
                || realm.getRawUserInfo() != null || realm.getRawFragment() != null) {
            LOG.warn("{}: the upstream's Bearer challenge names an unusable realm: {}", action,
                    challenge.param("realm"));
            throw new OciException(OciErrorCode.BAD_GATEWAY, action
                    + ": the upstream's auth challenge names a token service mirrorball does not use");
        }
        return realm;
    }

    /** A token for the scope, from the cache or the token service, within the exchange's deadline. */
    private String token(AuthChallenge challenge, String scope, boolean fresh, Deadline deadline, String action,
                         Supplier<Credentials> who) {
        TokenCache.Key key = key(challenge, scope);
        if (!fresh) {
            Optional<String> cached = tokens.get(key);
            if (cached.isPresent()) {
                return cached.get();
            }
        }
        URI realm = realm(challenge, action);
        StringBuilder query = new StringBuilder();
        if (challenge.param("service") != null) {
            query.append("service=").append(URLEncoder.encode(challenge.param("service"), StandardCharsets.UTF_8));
        }
        if (scope != null) {
            query.append(query.isEmpty() ? "" : "&").append("scope=")
                    .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        }
        Credentials credentials = who.get();
        HttpUriRequestBase request;
        URI uri;
        if (credentials instanceof Credentials.IdentityToken identity) {
            // OAuth2: the refresh token is exchanged at the realm, in a form body (never in the URL)
            uri = realm;
            request = new HttpUriRequestBase("POST", uri);
            StringBuilder form = new StringBuilder("grant_type=refresh_token");
            if (challenge.param("service") != null) {
                form.append("&service=").append(URLEncoder.encode(challenge.param("service"), StandardCharsets.UTF_8));
            }
            if (scope != null) {
                form.append("&scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
            }
            form.append("&client_id=mirrorball&refresh_token=")
                    .append(URLEncoder.encode(identity.token(), StandardCharsets.UTF_8));
            request.setEntity(new StringEntity(form.toString(), ContentType.APPLICATION_FORM_URLENCODED));
        } else {
            String text = realm.toString();
            uri = URI.create(text + (query.isEmpty() ? "" : (realm.getRawQuery() != null ? "&" : "?") + query));
            request = new HttpUriRequestBase("GET", uri);
            if (credentials instanceof Credentials.Basic user) {
                request.setHeader("Authorization", basicCredentials(user));
            }
        }
        request.setHeader("Accept", "application/json");
        String what = action + ": get a token";
        deadline.watch(request);
        try {
            requests.incrementAndGet();
            try (ClassicHttpResponse response = http.executeOpen(host(uri), request, null)) {
                int status = response.getCode();
                if (status == 429) {
                    request.cancel();
                    throw new OciException(OciErrorCode.TOOMANYREQUESTS, what + ": rate limited")
                            .withHeader("Retry-After", Optional.ofNullable(firstHeader(response, "Retry-After"))
                                    .orElse("60"));
                }
                if (status == 401 || status == 403) {
                    request.cancel();
                    throw new OciException(OciErrorCode.DENIED, what + ": the token service refused "
                            + describe(credentials));
                }
                HttpEntity entity = response.getEntity();
                if (status != 200 || entity == null || entity.getContentLength() > TOKEN_CAP) {
                    request.cancel();
                    LOG.warn("{}: token service {} answered {} with {} bytes", what, uri.getHost(), status,
                            entity == null ? 0 : entity.getContentLength());
                    throw new OciException(OciErrorCode.BAD_GATEWAY, what + ": the token service answered "
                            + (status != 200 ? status : "with an unusable body"));
                }
                byte[] body;
                try (InputStream in = entity.getContent()) {
                    body = Bodies.readCapped(in, TOKEN_CAP + 1, false, "token response");
                }
                if (body.length > TOKEN_CAP) {
                    request.cancel();
                    throw new OciException(OciErrorCode.BAD_GATEWAY, what + ": the token response is over "
                            + TOKEN_CAP + " bytes");
                }
                Token token = Token.parse(body, what);
                tokens.put(key, token.value(), token.lifetime());
                return token.value();
            }
        } catch (IOException e) {
            throw failure(what, e, deadline.expired());
        }
    }

    /** A token response: {@code token} or {@code access_token}, and {@code expires_in} seconds. */
    record Token(String value, Duration lifetime) {
        static Token parse(byte[] body, String action) {
            JsonNode root;
            try {
                root = JSON.readTree(body);
            } catch (IOException e) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": the token response is not JSON");
            }
            if (root == null || !root.isObject()) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": the token response is not a JSON object");
            }
            String value = text(root, "token");
            if (value == null) {
                value = text(root, "access_token");
            }
            if (value == null) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, action
                        + ": the token response has neither token nor access_token");
            }
            JsonNode expires = root.get("expires_in");
            Duration lifetime = expires != null && expires.canConvertToLong() && expires.asLong() > 0
                    ? Duration.ofSeconds(expires.asLong()) : TokenCache.DEFAULT_LIFETIME;
            return new Token(value, lifetime);
        }

        private static String text(JsonNode root, String field) {
            JsonNode node = root.get(field);
            return node != null && node.isTextual() && !node.asText().isEmpty() ? node.asText() : null;
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
        http.close(CloseMode.IMMEDIATE);
        pool.close(CloseMode.IMMEDIATE);
    }
}
