package io.mirrorball.migrate.dest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * A running mirrorball ({@code --to URL}), through its registry API. A blob is one
 * {@code POST ?mount=<digest>} (201: the gateway holds it anywhere and has linked it; 202: a session)
 * and then one {@code PUT ?digest=} whose chunked body streams straight from the source: no byte
 * queue, one buffer per job, the backpressure of the socket. The body has no Content-Length, so a
 * copy cut off keeps what arrived and a re-run asks the session's Range and sends the rest. The CID
 * comes from {@code X-Ipfs-Path} on the manifest PUT, else a manifest HEAD.
 */
public final class GatewayDestination implements Destination {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RANGE = Pattern.compile("^(?:bytes=)?0-(\\d+)$");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(120);
    /** Publishing a large index (every child, every blob linked) takes long on a slow node. */
    private static final Duration MANIFEST_TIMEOUT = Duration.ofMinutes(10);
    private static final int MAX_ERROR_BYTES = 64 * 1024;
    private static final String ACCEPT = MediaTypes.ACCEPT_ALL;

    private final URI base;
    private final String authorization;
    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient http;

    private GatewayDestination(URI base, String authorization, int connections) {
        this.base = base;
        this.authorization = authorization;
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(connections)
                .setMaxConnPerRoute(connections)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(CONNECT_TIMEOUT))
                        .setSocketTimeout(Timeout.of(RESPONSE_TIMEOUT))
                        .setValidateAfterInactivity(Timeout.ofSeconds(2))
                        .build())
                .build();
        this.http = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(RESPONSE_TIMEOUT))
                        .setResponseTimeout(Timeout.of(RESPONSE_TIMEOUT))
                        .build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableContentCompression()
                .disableCookieManagement()
                .setUserAgent("mirrorball-migrate")
                .build();
    }

    /**
     * Connects to the gateway at {@code url} and checks that it answers {@code GET /v2/} with 200
     * (with the credentials, when given as {@code user:password}); a MigrateException otherwise.
     */
    public static GatewayDestination connect(String url, Optional<String> credentials, int jobs) throws IOException {
        URI base = URI.create(url.replaceAll("/+$", ""));
        if (base.getHost() == null || !("http".equals(base.getScheme()) || "https".equals(base.getScheme()))) {
            throw new IllegalArgumentException("--to must be an http(s) URL, not '" + url + "'");
        }
        String authorization = credentials.map(c -> "Basic " + Base64.getEncoder()
                .encodeToString(c.getBytes(StandardCharsets.UTF_8))).orElse(null);
        GatewayDestination destination = new GatewayDestination(base, authorization, jobs + 2);
        try {
            destination.check();
            return destination;
        } catch (IOException | RuntimeException e) {
            destination.close();
            throw e;
        }
    }

    /** The host:port that keys the retry gate and that messages name. */
    public String host() {
        return base.getAuthority();
    }

    private void check() throws IOException {
        try (Exchange exchange = send(request("GET", base.resolve("/v2/"), RESPONSE_TIMEOUT))) {
            int status = exchange.status();
            if (status == 401 || status == 403) {
                throw new MigrateException(FailureKind.DENIED, "the destination " + host() + " refused "
                        + (authorization == null ? "anonymous access: give --dest-creds" : "the credentials"));
            }
            if (status != 200) {
                throw new MigrateException(FailureKind.DESTINATION_REFUSED, "the destination " + host()
                        + " answered GET /v2/ with " + status + ": is it a registry?");
            }
        }
    }

    @Override
    public BlobPlan ensureBlob(RepositoryName repository, Descriptor blob) throws IOException {
        URI uri = v2(repository, "blobs/uploads/?mount=" + encode(blob.digest().toString()));
        try (Exchange exchange = send(request("POST", uri, RESPONSE_TIMEOUT))) {
            if (exchange.status() == 201) {
                return new BlobPlan.Linked();
            }
            if (exchange.status() != 202) {
                throw exchange.refusal("start the upload of " + blob.digest() + " to " + repository);
            }
            return new BlobPlan.Upload(location(exchange, repository), 0);
        }
    }

    @Override
    public Optional<BlobPlan.Upload> resume(RepositoryName repository, String token) throws IOException {
        URI session = session(token, repository);
        try (Exchange exchange = send(request("GET", session, RESPONSE_TIMEOUT))) {
            if (exchange.status() == 404) {
                return Optional.empty();
            }
            if (exchange.status() != 204 && exchange.status() != 200) {
                throw exchange.refusal("ask upload status in " + repository);
            }
            String location = exchange.header("Location");
            String next = location == null ? token : base.resolve(location).toString();
            return Optional.of(new BlobPlan.Upload(next, offset(exchange.header("Range"))));
        }
    }

    @Override
    public void upload(RepositoryName repository, BlobPlan.Upload upload, Descriptor blob, InputStream in)
            throws IOException {
        String token = upload.token();
        URI uri = URI.create(token + (token.contains("?") ? "&" : "?") + "digest=" + encode(blob.digest().toString()));
        HttpUriRequestBase put = request("PUT", session(uri.toString(), repository), RESPONSE_TIMEOUT);
        // chunked, with no length: a body cut off keeps what arrived, and a re-run sends the rest
        put.setEntity(new InputStreamEntity(in, -1, ContentType.APPLICATION_OCTET_STREAM));
        try (Exchange exchange = send(put, true)) {
            if (exchange.status() != 201) {
                throw exchange.refusal("upload " + blob.digest() + " to " + repository);
            }
        }
    }

    @Override
    public Published putManifest(RepositoryName repository, Reference reference, Fetched manifest) throws IOException {
        HttpUriRequestBase put = request("PUT", v2(repository, "manifests/" + reference), MANIFEST_TIMEOUT);
        put.setEntity(new ByteArrayEntity(manifest.bytes(), ContentType.parse(manifest.mediaType())));
        Optional<Cid> cid;
        try (Exchange exchange = send(put)) {
            if (exchange.status() != 201) {
                throw exchange.refusal("put manifest " + manifest.digest() + " into " + repository);
            }
            cid = cid(exchange);
        }
        if (cid.isEmpty()) {
            cid = existing(repository, Reference.ofDigest(manifest.digest())).map(Published::cid);
        }
        return new Published(manifest.digest(), cid.orElseThrow(() -> new MigrateException(FailureKind.NO_CID,
                "the destination took " + repository + "@" + manifest.digest()
                        + " but did not publish it to IPFS: is it a mirrorball?")));
    }

    @Override
    public Optional<Published> existing(RepositoryName repository, Reference reference) throws IOException {
        HttpUriRequestBase head = request("HEAD", v2(repository, "manifests/" + reference), MANIFEST_TIMEOUT);
        head.setHeader("Accept", ACCEPT);
        try (Exchange exchange = send(head)) {
            if (exchange.status() == 404) {
                return Optional.empty();
            }
            if (exchange.status() != 200) {
                throw exchange.refusal("look up " + repository + ":" + reference);
            }
            String digest = exchange.header("Docker-Content-Digest");
            Optional<Cid> cid = cid(exchange);
            if (digest == null || !Digest.isDigest(digest) || cid.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Published(Digest.parse(digest), cid.get()));
        }
    }

    @Override
    public boolean hasBlob(RepositoryName repository, Digest blob) throws IOException {
        try (Exchange exchange = send(request("HEAD", v2(repository, "blobs/" + blob), RESPONSE_TIMEOUT))) {
            if (exchange.status() == 200) {
                return true;
            }
            if (exchange.status() == 404) {
                return false;
            }
            throw exchange.refusal("look up blob " + blob + " in " + repository);
        }
    }

    @Override
    public void cancel(RepositoryName repository, String token) throws IOException {
        try (Exchange exchange = send(request("DELETE", session(token, repository), RESPONSE_TIMEOUT))) {
            if (exchange.status() != 204 && exchange.status() != 404) {
                throw exchange.refusal("cancel an upload to " + repository);
            }
        }
    }

    @Override
    public void close() {
        http.close(org.apache.hc.core5.io.CloseMode.IMMEDIATE);
        pool.close(org.apache.hc.core5.io.CloseMode.IMMEDIATE);
    }

    private URI v2(RepositoryName repository, String suffix) {
        return URI.create(base + "/v2/" + repository + "/" + suffix);
    }

    /** A session URL from the journal or a Location, which must point at this gateway. */
    private URI session(String token, RepositoryName repository) {
        URI uri = base.resolve(token);
        if (!base.getAuthority().equals(uri.getAuthority()) || !uri.getRawPath().startsWith(
                (base.getRawPath() == null ? "" : base.getRawPath()) + "/v2/" + repository + "/blobs/uploads/")) {
            throw new MigrateException(FailureKind.DESTINATION_REFUSED, "the destination gave an upload location"
                    + " outside " + repository + " on " + host());
        }
        return uri;
    }

    private String location(Exchange exchange, RepositoryName repository) {
        String location = exchange.header("Location");
        if (location == null || location.isBlank()) {
            throw new MigrateException(FailureKind.DESTINATION_REFUSED, "the destination opened an upload in "
                    + repository + " without a Location");
        }
        return session(base.resolve(location).toString(), repository).toString();
    }

    /**
     * The bytes an upload holds, from its {@code Range: 0-<last>}. Registries (distribution, and
     * mirrorball) answer {@code 0-0} for an empty session too, so {@code 0-0} is read as empty: a
     * session killed after exactly one byte then fails its digest check and is started again.
     */
    private static long offset(String range) {
        if (range == null) {
            return 0;
        }
        Matcher m = RANGE.matcher(range.trim());
        if (!m.matches()) {
            return 0;
        }
        long last = Long.parseLong(m.group(1));
        return last == 0 ? 0 : last + 1;
    }

    private static Optional<Cid> cid(Exchange exchange) {
        String path = exchange.header("X-Ipfs-Path");
        if (path == null || !path.startsWith("/ipfs/") || !Cid.isCid(path.substring("/ipfs/".length()))) {
            return Optional.empty();
        }
        return Optional.of(Cid.parse(path.substring("/ipfs/".length())));
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private HttpUriRequestBase request(String method, URI uri, Duration timeout) {
        HttpUriRequestBase request = new HttpUriRequestBase(method, uri);
        request.setConfig(RequestConfig.custom()
                .setConnectionRequestTimeout(Timeout.of(RESPONSE_TIMEOUT))
                .setResponseTimeout(Timeout.of(timeout))
                .build());
        if (authorization != null) {
            request.setHeader("Authorization", authorization);
        }
        return request;
    }

    private Exchange send(HttpUriRequestBase request) throws IOException {
        return send(request, false);
    }

    /**
     * Sends a request. A failure to connect or to get an answer is UNREACHABLE (tried again by the
     * retry policy), except for a blob body ({@code streaming}), whose I/O failure stays an
     * IOException: the blob copier continues it from what the destination holds.
     */
    private Exchange send(HttpUriRequestBase request, boolean streaming) throws IOException {
        try {
            return new Exchange(http.executeOpen(null, request, null));
        } catch (IOException e) {
            if (streaming) {
                throw e;
            }
            throw new MigrateException(FailureKind.UNREACHABLE, "the destination " + host() + " did not answer ("
                    + (e.getMessage() == null ? "connection failed" : e.getMessage()) + ")", e);
        }
    }

    /** One response; closing it releases the connection. */
    private static final class Exchange implements AutoCloseable {
        private final ClassicHttpResponse response;

        Exchange(ClassicHttpResponse response) {
            this.response = response;
        }

        int status() {
            return response.getCode();
        }

        String header(String name) {
            Header header = response.getFirstHeader(name);
            return header == null ? null : header.getValue();
        }

        /** The refusal as a MigrateException: the gateway's OCI code and message, never its internals. */
        MigrateException refusal(String action) {
            int status = status();
            String detail = errorText();
            String message = "the destination refused to " + action + ": " + status + (detail.isEmpty() ? "" : " " + detail);
            MigrateException e;
            if (status == 429) {
                e = new MigrateException(FailureKind.RATE_LIMITED, message);
            } else if (status == 502 || status == 503 || status == 504) {
                e = new MigrateException(FailureKind.UNREACHABLE, message);
            } else if (status == 401 || status == 403) {
                e = new MigrateException(FailureKind.DENIED, message);
            } else {
                e = new MigrateException(FailureKind.DESTINATION_REFUSED, message);
            }
            retryAfter(header("Retry-After")).ifPresent(e::withRetryAfter);
            return e;
        }

        private String errorText() {
            if (response.getEntity() == null) {
                return "";
            }
            try (InputStream in = response.getEntity().getContent()) {
                byte[] body = in.readNBytes(MAX_ERROR_BYTES);
                JsonNode first = JSON.readTree(body).path("errors").path(0);
                String code = first.path("code").asText("");
                String message = first.path("message").asText("");
                String detail = first.path("detail").isTextual() ? first.path("detail").asText() : "";
                String text = code + (message.isEmpty() ? "" : ": " + message) + (detail.isEmpty() ? "" : " (" + detail + ")");
                return text.replaceAll("[\\p{Cntrl}]", " ").trim();
            } catch (IOException | RuntimeException e) {
                return "";
            }
        }

        private static Optional<Duration> retryAfter(String value) {
            if (value == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value.trim()))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        @Override
        public void close() throws IOException {
            EntityUtils.consumeQuietly(response.getEntity());
            response.close();
        }
    }
}
