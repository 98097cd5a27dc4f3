package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;

/**
 * A small OCI distribution client for the API tests: raw requests (nothing hidden, every header
 * visible to the test) plus the few push helpers that many tests share. Paths are relative to the
 * gateway, e.g. {@code /v2/a/b/blobs/sha256:...}; they are sent exactly as written (no normalisation).
 */
final class RegistryClient {
    static final String OCTET_STREAM = "application/octet-stream";
    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;

    RegistryClient(URI base) {
        this(base, Duration.ofSeconds(60));
    }

    RegistryClient(URI base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    URI base() {
        return base;
    }

    /** A Location header (absolute or relative) as a path and query on this gateway. */
    String pathOf(String location) {
        assertNotNull(location, "Location header");
        URI uri = base.resolve(location);
        assertEquals(base.getAuthority(), uri.getAuthority(), "Location points at this registry: " + location);
        return uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    /** Appends a query parameter to a path that may already have a query (a Location may carry state). */
    static String withQuery(String path, String query) {
        return path + (path.contains("?") ? "&" : "?") + query;
    }

    HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    HttpResponse<byte[]> send(String method, String path, BodyPublisher body, String... headers) {
        return send(request(path, headers).method(method, body).build());
    }

    HttpResponse<byte[]> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** For bodies that must not be held in memory (several MiB): the caller streams and closes. */
    HttpResponse<InputStream> sendStreaming(String method, String path, String... headers) throws IOException {
        try {
            return http.send(request(path, headers).method(method, BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<byte[]> get(String path, String... headers) {
        return send("GET", path, BodyPublishers.noBody(), headers);
    }

    HttpResponse<byte[]> head(String path, String... headers) {
        return send("HEAD", path, BodyPublishers.noBody(), headers);
    }

    HttpResponse<byte[]> delete(String path) {
        return send("DELETE", path, BodyPublishers.noBody());
    }

    HttpResponse<byte[]> post(String path, byte[] body, String... headers) {
        return send("POST", path, BodyPublishers.ofByteArray(body), headers);
    }

    HttpResponse<byte[]> put(String path, byte[] body, String contentType) {
        return send("PUT", path, BodyPublishers.ofByteArray(body), "Content-Type", contentType);
    }

    HttpResponse<byte[]> patch(String path, byte[] body, String... headers) {
        return send("PATCH", path, BodyPublishers.ofByteArray(body), headers);
    }

    // ---- push helpers -------------------------------------------------------------------------

    /** Monolithic upload (POST ?digest=); asserts 201 and returns the digest. */
    String pushBlob(String repo, byte[] content) {
        String digest = digestOf(content);
        HttpResponse<byte[]> r = post("/v2/" + repo + "/blobs/uploads/?digest=" + digest, content,
                "Content-Type", OCTET_STREAM);
        expect(r, 201, "push blob " + digest + " to " + repo);
        return digest;
    }

    /** Session upload: POST, one PUT ?digest= with the whole body; asserts 201 and returns the digest. */
    String pushBlobInSession(String repo, byte[] content) {
        String digest = digestOf(content);
        String location = startUpload(repo);
        HttpResponse<byte[]> r = send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.ofByteArray(content),
                "Content-Type", OCTET_STREAM);
        expect(r, 201, "close upload of " + digest + " to " + repo);
        return digest;
    }

    /** POST a new session; asserts 202 and returns the session's path (from Location). */
    String startUpload(String repo) {
        HttpResponse<byte[]> r = post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
        expect(r, 202, "start upload in " + repo);
        return pathOf(r.headers().firstValue("Location").orElse(null));
    }

    /** PUT a manifest; asserts 201 and returns its digest (which must be the Docker-Content-Digest). */
    String pushManifest(String repo, String reference, byte[] manifest, String mediaType) {
        HttpResponse<byte[]> r = put("/v2/" + repo + "/manifests/" + reference, manifest, mediaType);
        expect(r, 201, "push manifest " + reference + " to " + repo);
        String digest = digestOf(manifest);
        assertEquals(digest, r.headers().firstValue("Docker-Content-Digest").orElse(null),
                "Docker-Content-Digest of the manifest PUT");
        return digest;
    }

    String pushManifest(String repo, String reference, String manifest, String mediaType) {
        return pushManifest(repo, reference, manifest.getBytes(StandardCharsets.UTF_8), mediaType);
    }

    /** Pushes the blobs of {@code image}, then its manifest under {@code reference}; the manifest PUT's answer (201). */
    HttpResponse<byte[]> pushImage(String repo, String reference, TestImages.Image image) {
        for (TestImages.Blob blob : image.blobs()) {
            pushBlob(repo, blob.content());
        }
        HttpResponse<byte[]> put = put("/v2/" + repo + "/manifests/" + reference, image.manifest(), image.mediaType());
        expect(put, 201, "push " + repo + ":" + reference);
        return put;
    }

    /** Pushes a config and {@code layers} random layers, then an OCI manifest under {@code reference}. */
    TestImages.Image pushImage(String repo, String reference, int layers) {
        TestImages.Image image = TestImages.ociImage(layers);
        for (TestImages.Blob blob : image.blobs()) {
            pushBlob(repo, blob.content());
        }
        pushManifest(repo, reference, image.manifest(), image.mediaType());
        return image;
    }

    // ---- assertions ---------------------------------------------------------------------------

    static void expect(HttpResponse<byte[]> r, int status, String what) {
        if (r.statusCode() != status) {
            fail(what + ": expected " + status + " but got " + describe(r));
        }
    }

    /** A one-line description of a response for failure messages (status, headers, start of body). */
    static String describe(HttpResponse<byte[]> r) {
        String body = r.body() == null ? "" : new String(r.body(), 0, Math.min(r.body().length, 400), StandardCharsets.UTF_8);
        return r.request().method() + " " + r.request().uri().getRawPath()
                + (r.request().uri().getRawQuery() == null ? "" : "?" + r.request().uri().getRawQuery())
                + " -> " + r.statusCode() + " " + r.headers().map() + " " + body;
    }

    /**
     * The OCI error contract: the status, Content-Type application/json, and a body
     * {@code {"errors":[{"code","message","detail"}]}} whose first code is {@code code}.
     */
    static JsonNode assertOciError(HttpResponse<byte[]> r, int status, String code) {
        String what = describe(r);
        assertEquals(status, r.statusCode(), "status of " + what);
        JsonNode error = assertErrorBody(r);
        if (code != null) {
            assertEquals(code, error.get("code").asText(), "error code of " + what);
        }
        return error;
    }

    /** Any error: JSON content type and the errors array; returns the first error. */
    static JsonNode assertErrorBody(HttpResponse<byte[]> r) {
        String what = describe(r);
        String contentType = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(contentType.startsWith("application/json"), "Content-Type of error " + what);
        JsonNode body = json(r);
        JsonNode errors = body.get("errors");
        assertTrue(errors != null && errors.isArray() && errors.size() >= 1, "errors array in " + what);
        JsonNode first = errors.get(0);
        assertTrue(first.hasNonNull("code") && first.get("code").isTextual(), "code in " + what);
        assertTrue(first.get("code").asText().matches("[A-Z_]+"), "code is upper case with underscores: " + what);
        assertTrue(first.has("message") && first.get("message").isTextual(), "message in " + what);
        assertTrue(first.has("detail"), "detail in " + what);
        return first;
    }

    static JsonNode json(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + describe(r), e);
        }
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    // ---- content ------------------------------------------------------------------------------

    static String digestOf(byte[] content) {
        return "sha256:" + HexFormat.of().formatHex(sha256().digest(content));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Random SEEDS = new Random();

    /** Random bytes, different in every call (so tests never share blobs by accident). */
    static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        synchronized (SEEDS) {
            SEEDS.nextBytes(bytes);
        }
        return bytes;
    }

    /** A unique, valid repository name component. */
    static String uniqueName(String prefix) {
        return prefix + "-" + Long.toHexString(System.nanoTime()) + Integer.toHexString(SEEDS.nextInt() & 0xfff);
    }
}
