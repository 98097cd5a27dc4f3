package io.mirrorball.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one caller of the upstream registry. It answers auth challenges (Bearer with a token cache per
 * scope, Basic when asked), follows redirects itself so that Authorization never reaches another host,
 * and retries only what is safe: a GET or HEAD whose pooled connection turned out to be dead before
 * any response. Failures before a response become 502 (unreachable) or 504 (timeout).
 */
final class UpstreamClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 5;
    private static final int TOKEN_CAP = 1024 * 1024;

    /** Timeouts and pool size; every one set on purpose. */
    record Settings(Duration connectTimeout, Duration readTimeout, int maxConnections) {
        static Settings defaults() {
            return new Settings(Duration.ofSeconds(5), Duration.ofSeconds(30), 64);
        }
    }

    private final UpstreamEndpoint endpoint;
    private final String username;
    private final String password;
    private final TokenCache tokens;
    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient http;
    private final AtomicLong requests = new AtomicLong();
    /** The upstream's Bearer challenge (realm, service) once seen, so later requests authenticate up front. */
    private volatile AuthChallenge bearer;
    /** The upstream asked for Basic: later requests send the credentials up front. */
    private volatile boolean basic;

    UpstreamClient(UpstreamEndpoint endpoint, String username, String password, TokenCache tokens, Settings settings) {
        this.endpoint = endpoint;
        this.username = username == null ? "" : username;
        this.password = password == null ? "" : password;
        this.tokens = tokens;
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
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
    }

    UpstreamEndpoint endpoint() {
        return endpoint;
    }

    /** How many HTTP requests went to the upstream (and redirect hosts and the token service). */
    long requestCount() {
        return requests.get();
    }

    /** An upstream response with its body still unread; close it (abort it to drop the connection). */
    static final class Exchange implements AutoCloseable {
        private final HttpUriRequestBase request;
        private final ClassicHttpResponse response;

        private Exchange(HttpUriRequestBase request, ClassicHttpResponse response) {
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

        InputStream body() throws IOException {
            HttpEntity entity = response.getEntity();
            return entity == null ? InputStream.nullInputStream() : entity.getContent();
        }

        /** Reads a small body whole (an error document), at most {@code cap} bytes. */
        byte[] smallBody(int cap) throws IOException {
            try (InputStream in = body()) {
                return Bodies.readCapped(in, cap, false, "upstream body");
            }
        }

        /** Drops the connection without reading the rest of the body. */
        void abort() {
            request.cancel();
        }

        @Override
        public void close() throws IOException {
            response.close();
        }
    }

    /**
     * Sends a request and returns the final response (after auth and redirects).
     *
     * @param scope the token scope, e.g. {@code repository:library/alpine:pull}
     */
    Exchange send(String method, URI uri, String scope, Map<String, String> headers) {
        URI target = uri;
        boolean credentialsAllowed = true;
        boolean authRetried = false;
        boolean staleRetried = false;
        int redirects = 0;
        while (true) {
            HttpUriRequestBase request = new HttpUriRequestBase(method, target);
            headers.forEach(request::setHeader);
            if (credentialsAllowed) {
                authorization(scope).ifPresent(value -> request.setHeader("Authorization", value));
            }
            ClassicHttpResponse response;
            try {
                requests.incrementAndGet();
                response = http.executeOpen(host(target), request, null);
            } catch (NoHttpResponseException e) {
                if (!staleRetried && (method.equals("GET") || method.equals("HEAD"))) {
                    staleRetried = true;
                    LOG.debug("{} {}: pooled connection was dead, retrying once", method, target);
                    continue;
                }
                throw failure(method + " " + target.getRawPath(), e);
            } catch (IOException e) {
                throw failure(method + " " + target.getRawPath(), e);
            }
            int status = response.getCode();
            if (status == 401 && credentialsAllowed && !authRetried) {
                List<AuthChallenge> challenges = AuthChallenge.parse(firstHeader(response, "WWW-Authenticate"));
                if (learn(challenges, scope)) {
                    authRetried = true;
                    discard(request, response);
                    continue;
                }
            }
            String location = firstHeader(response, "Location");
            if (isRedirect(status) && location != null) {
                if (++redirects > MAX_REDIRECTS) {
                    discard(request, response);
                    throw new OciException(OciErrorCode.BAD_GATEWAY, method + " " + uri.getRawPath() + ": more than "
                            + MAX_REDIRECTS + " redirects");
                }
                URI next = target.resolve(location.trim());
                // credentials go to the upstream only, never to a CDN or object store it redirects to
                credentialsAllowed = credentialsAllowed && endpoint.isSameOrigin(next);
                discard(request, response);
                target = next;
                continue;
            }
            return new Exchange(request, response);
        }
    }

    /**
     * Maps a failure before any response: timeouts are 504, everything else 502. The detail names the
     * action (method and path) but not the upstream's host or the exception, which go to the log as the cause.
     */
    static OciException failure(String action, IOException e) {
        OciErrorCode code = e instanceof InterruptedIOException ? OciErrorCode.GATEWAY_TIMEOUT
                : OciErrorCode.BAD_GATEWAY;
        String what = code == OciErrorCode.GATEWAY_TIMEOUT ? "upstream timed out" : "upstream unreachable";
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

    private Optional<String> authorization(String scope) {
        AuthChallenge challenge = bearer;
        if (challenge != null) {
            return Optional.of("Bearer " + token(challenge, scope, false));
        }
        if (basic) {
            return Optional.of(basicCredentials());
        }
        return Optional.empty();
    }

    /** Takes in a 401's challenges; true when a retry can now succeed. */
    private boolean learn(List<AuthChallenge> challenges, String scope) {
        for (AuthChallenge challenge : challenges) {
            if (challenge.isBearer() && challenge.param("realm") != null) {
                AuthChallenge previous = bearer;
                bearer = challenge;
                String wanted = scope != null ? scope : challenge.param("scope");
                if (previous != null) {
                    tokens.invalidate(key(challenge, wanted));
                }
                token(challenge, wanted, true);
                return true;
            }
        }
        for (AuthChallenge challenge : challenges) {
            if (challenge.isBasic() && !username.isEmpty() && !basic) {
                basic = true;
                return true;
            }
        }
        return false;
    }

    private String basicCredentials() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    private static TokenCache.Key key(AuthChallenge challenge, String scope) {
        return new TokenCache.Key(challenge.param("realm"), challenge.param("service"), scope);
    }

    /** A token for the scope, from the cache or the token service. */
    private String token(AuthChallenge challenge, String scope, boolean fresh) {
        TokenCache.Key key = key(challenge, scope);
        if (!fresh) {
            Optional<String> cached = tokens.get(key);
            if (cached.isPresent()) {
                return cached.get();
            }
        }
        StringBuilder query = new StringBuilder();
        if (challenge.param("service") != null) {
            query.append("service=").append(URLEncoder.encode(challenge.param("service"), StandardCharsets.UTF_8));
        }
        if (scope != null) {
            query.append(query.isEmpty() ? "" : "&").append("scope=")
                    .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        }
        String realm = challenge.param("realm");
        URI uri = URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?") + query));
        HttpUriRequestBase request = new HttpUriRequestBase("GET", uri);
        request.setHeader("Accept", "application/json");
        if (!username.isEmpty()) {
            request.setHeader("Authorization", basicCredentials());
        }
        String action = "get a token for " + scope + " from " + uri.getHost();
        try {
            requests.incrementAndGet();
            try (ClassicHttpResponse response = http.executeOpen(host(uri), request, null);
                 InputStream in = response.getEntity() == null ? InputStream.nullInputStream()
                         : response.getEntity().getContent()) {
                byte[] body = Bodies.readCapped(in, TOKEN_CAP, false, "token response");
                if (response.getCode() == 401 || response.getCode() == 403) {
                    throw new OciException(OciErrorCode.DENIED, action + ": the token service refused "
                            + (username.isEmpty() ? "anonymous access" : "the credentials of " + username));
                }
                if (response.getCode() == 429) {
                    throw new OciException(OciErrorCode.TOOMANYREQUESTS, action + ": rate limited")
                            .withHeader("Retry-After", Optional.ofNullable(firstHeader(response, "Retry-After"))
                                    .orElse("60"));
                }
                if (response.getCode() != 200) {
                    throw new OciException(OciErrorCode.BAD_GATEWAY, action + ": token service answered "
                            + response.getCode());
                }
                Token token = Token.parse(body);
                tokens.put(key, token.value(), token.lifetime());
                return token.value();
            }
        } catch (IOException e) {
            throw failure(action, e);
        }
    }

    /** A token response: {@code token} or {@code access_token}, and {@code expires_in} seconds. */
    record Token(String value, Duration lifetime) {
        static Token parse(byte[] body) {
            JsonNode root;
            try {
                root = JSON.readTree(body);
            } catch (IOException e) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, "token response is not JSON");
            }
            if (root == null || !root.isObject()) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, "token response is not a JSON object");
            }
            String value = text(root, "token");
            if (value == null) {
                value = text(root, "access_token");
            }
            if (value == null) {
                throw new OciException(OciErrorCode.BAD_GATEWAY, "token response has neither token nor access_token");
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
        http.close(CloseMode.IMMEDIATE);
        pool.close(CloseMode.IMMEDIATE);
    }
}
