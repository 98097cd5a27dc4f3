package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.OCTET_STREAM;
import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.describe;
import static io.mirrorball.web.RegistryClient.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.KuboNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Error contract: names, routes, methods, error JSON, no 5xx on bad input, no escape from the MFS root, node down. */
final class RegistryApiErrorsTest {
    private static final String DIGEST = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private RegistryClient client;

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp);
        client = gateway.client();
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    // ---- names ------------------------------------------------------------------------------

    static Stream<String> invalidNames() {
        return Stream.of("Upper", "a/B", "UPPER/case", "a/../b", "..", "../x", "a/%2e%2e/b", "%2e%2e", "%2E%2E/x",
                "a___b", "-a", "a-", "_a", ".a", "a.", "a//b", "a/", "a%2Fb", "a%20b", "a:b", "a%C3%A9",
                "a".repeat(256), ("abcdefghi/").repeat(25) + "abcdefg");
    }

    @ParameterizedTest
    @MethodSource("invalidNames")
    void anyEndpoint_invalidName_400NameInvalid(String name) {
        assertOciError(client.get("/v2/" + name + "/tags/list"), 400, "NAME_INVALID");
        assertOciError(client.get("/v2/" + name + "/manifests/latest"), 400, "NAME_INVALID");
        assertOciError(client.get("/v2/" + name + "/blobs/" + DIGEST), 400, "NAME_INVALID");
        assertOciError(client.post("/v2/" + name + "/blobs/uploads/", new byte[0]), 400, "NAME_INVALID");
        assertOciError(client.put("/v2/" + name + "/manifests/latest", "{}".getBytes(StandardCharsets.UTF_8),
                MediaTypes.OCI_MANIFEST), 400, "NAME_INVALID");
        assertOciError(client.get("/v2/" + name + "/referrers/" + DIGEST), 400, "NAME_INVALID");
    }

    @Test
    void name_255Characters_works() {
        String name = ("abcdefghi/").repeat(25) + "abcde";
        assertEquals(255, name.length());
        byte[] content = RegistryClient.randomBytes(100);

        String digest = client.pushBlob(name, content);

        HttpResponse<byte[]> r = client.get("/v2/" + name + "/blobs/" + digest);
        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(content, r.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a__b", "a.b-c", "a---b", "0/1/2", "a/b/c/d/e/f/g/h"})
    void name_validUnusual_works(String name) {
        TestImages.Image image = client.pushImage(name, "v1", 1);

        HttpResponse<byte[]> r = client.get("/v2/" + name + "/manifests/v1");
        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(image.manifest(), r.body());
        assertEquals(name, RegistryClient.json(client.get("/v2/" + name + "/tags/list")).get("name").asText());
    }

    // ---- routes and methods -----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"/v2/a/unknown", "/v2/a/b/whatever/x", "/v2/a/blobs", "/v2/a/manifests", "/v2/a/tags",
            "/v2/a/tags/other", "/v2/_unknown", "/v2/a/blobs/uploads/x/y"})
    void unknownRoute_404Json(String path) {
        HttpResponse<byte[]> r = client.get(path);

        assertEquals(404, r.statusCode(), describe(r));
        RegistryClient.assertErrorBody(r);
    }

    @Test
    void outsideV2_404() {
        HttpResponse<byte[]> r = client.get("/v3/");
        assertEquals(404, r.statusCode(), describe(r));
        assertEquals(404, client.get("/nothing").statusCode());
        assertEquals(302, client.get("/").statusCode(), "/ redirects to the web page");
    }

    static Stream<Arguments> wrongMethods() {
        return Stream.of(
                Arguments.of("POST", "/v2/"),
                Arguments.of("DELETE", "/v2/"),
                Arguments.of("PUT", "/v2/a/blobs/" + DIGEST),
                Arguments.of("POST", "/v2/a/blobs/" + DIGEST),
                Arguments.of("PATCH", "/v2/a/blobs/" + DIGEST),
                Arguments.of("POST", "/v2/a/manifests/v1"),
                Arguments.of("PATCH", "/v2/a/manifests/v1"),
                Arguments.of("DELETE", "/v2/a/tags/list"),
                Arguments.of("PUT", "/v2/a/tags/list"),
                Arguments.of("POST", "/v2/_catalog"),
                Arguments.of("DELETE", "/v2/_catalog"),
                Arguments.of("POST", "/v2/a/referrers/" + DIGEST),
                Arguments.of("DELETE", "/v2/a/referrers/" + DIGEST),
                Arguments.of("PUT", "/v2/a/blobs/uploads/"),
                Arguments.of("GET", "/v2/a/blobs/uploads/"),
                Arguments.of("POST", "/v2/a/blobs/uploads/" + UUID.randomUUID()));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("wrongMethods")
    void wrongMethod_405JsonWithAllow(String method, String path) {
        HttpResponse<byte[]> r = client.send(method, path, BodyPublishers.ofByteArray(new byte[0]));

        assertOciError(r, 405, "UNSUPPORTED");
        assertNotNull(header(r, "Allow"), "a 405 names the allowed methods (RFC 9110): " + describe(r));
    }

    // ---- no 5xx -----------------------------------------------------------------------------

    static Stream<Arguments> malformedRequests() {
        return Stream.of(
                Arguments.of("GET", "/v2/ok/tags/list?n=99999999999999999999", null, null),
                Arguments.of("GET", "/v2/ok/tags/list?n=-5", null, null),
                Arguments.of("GET", "/v2/ok/tags/list?n=", null, null),
                Arguments.of("GET", "/v2/ok/tags/list?last=", null, null),
                Arguments.of("GET", "/v2/ok/tags/list?last=..%2F..%2Fx", null, null),
                Arguments.of("GET", "/v2/_catalog?n=abc", null, null),
                Arguments.of("GET", "/v2/_catalog?n=-1", null, null),
                Arguments.of("GET", "/v2/_catalog?last=%00", null, null),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?digest=", "abc", null),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?digest=garbage", "abc", null),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?mount=" + DIGEST, null, null),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?from=other", null, null),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?mount=&from=", null, null),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{}", null),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{}", "text/plain"),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "", "application/vnd.oci.image.manifest.v1+json"),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{\"schemaVersion\":2}", "application/vnd.oci.image.manifest.v1+json"),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{\"schemaVersion\":2,\"manifests\":null}", "application/vnd.oci.image.index.v1+json"),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{\"schemaVersion\":2,\"config\":null,\"layers\":null}", null),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{\"schemaVersion\":99999999999999999999}", null),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "\u0000\u0001\u0002", null),
                Arguments.of("PUT", "/v2/ok/manifests/v1", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"config\":{\"mediaType\":\"x\",\"digest\":\"" + DIGEST + "\",\"size\":2},\"layers\":[],"
                        + "\"subject\":{\"mediaType\":\"x\",\"digest\":\"" + DIGEST + "\",\"size\":9e99}}", null),
                Arguments.of("GET", "/v2/ok/manifests/", null, null),
                Arguments.of("GET", "/v2/ok/manifests/%00", null, null),
                Arguments.of("GET", "/v2/ok/manifests/sha256:", null, null),
                Arguments.of("HEAD", "/v2/ok/manifests/sha256:abc", null, null),
                Arguments.of("GET", "/v2/ok/blobs/", null, null),
                Arguments.of("GET", "/v2/ok/blobs/latest", null, null),
                Arguments.of("GET", "/v2/ok/referrers/", null, null),
                Arguments.of("GET", "/v2/ok/referrers/" + DIGEST + "?artifactType=", null, null),
                Arguments.of("GET", "/v2/a%00b/tags/list", null, null),
                Arguments.of("GET", "/v2/" + "a/".repeat(1500) + "b/tags/list", null, null));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("malformedRequests")
    void malformedRequest_neverServerError(String method, String path, String body, String contentType) {
        client.pushBlob("ok", RegistryClient.randomBytes(10));
        List<String> headers = new ArrayList<>();
        if (contentType != null) {
            headers.add("Content-Type");
            headers.add(contentType);
        }
        HttpResponse<byte[]> r = client.send(method, path,
                body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body), headers.toArray(String[]::new));

        assertTrue(r.statusCode() < 500, describe(r));
        if (r.statusCode() >= 400 && !method.equals("HEAD")) {
            RegistryClient.assertErrorBody(r);
        }
    }

    static Stream<Arguments> malformedUploadRequests() {
        return Stream.of(
                Arguments.of("PATCH", "", "abc", "Content-Range", "abc"),
                Arguments.of("PATCH", "", "abc", "Content-Range", "2-0"),
                Arguments.of("PATCH", "", "abc", "Content-Range", "-1-1"),
                Arguments.of("PATCH", "", "abc", "Content-Range", "0-"),
                Arguments.of("PATCH", "", "abc", "Content-Range", "bytes 0-2/3"),
                Arguments.of("PATCH", "", "abc", "Content-Range", "0-99999999999999999999"),
                Arguments.of("PUT", "?digest=garbage", "abc", "Content-Range", "0-2"),
                Arguments.of("PUT", "?digest=", "abc", "Content-Type", OCTET_STREAM),
                Arguments.of("PUT", "?digest=" + DIGEST + "&digest=" + DIGEST, "abc", "Content-Type", OCTET_STREAM),
                Arguments.of("PUT", "?digest=" + DIGEST, "abc", "Content-Range", "5-7"));
    }

    @ParameterizedTest(name = "{0} {1} {3}: {4}")
    @MethodSource("malformedUploadRequests")
    void malformedUploadRequest_neverServerError(String method, String query, String body, String header, String value) {
        String location = client.startUpload("ok");

        HttpResponse<byte[]> r = client.send(method, location.contains("?") && query.startsWith("?")
                ? location + "&" + query.substring(1) : location + query, BodyPublishers.ofString(body), header, value);

        assertTrue(r.statusCode() < 500, describe(r));
        if (r.statusCode() >= 400) {
            RegistryClient.assertErrorBody(r);
        }
    }

    // ---- the MFS root and the uploads directory are never escaped -------------------------

    /**
     * Traversal attempts. Those in the path must be refused (4xx); those in a query parameter that is
     * only compared or looked up (mount's from, tags' last) may also be answered normally (distribution
     * ignores a bad mount source and opens a session), as long as nothing escapes the roots.
     */
    static Stream<Arguments> traversals() {
        return Stream.of(
                Arguments.of("GET", "/v2/../../evil1/blobs/" + DIGEST, true),
                Arguments.of("GET", "/v2/a/../../evil2/tags/list", true),
                Arguments.of("GET", "/v2/%2e%2e/%2e%2e/evil3/tags/list", true),
                Arguments.of("PUT", "/v2/a/%2e%2e/%2e%2e/evil4/manifests/latest", true),
                Arguments.of("PUT", "/v2/a%2F..%2F..%2Fevil5/manifests/latest", true),
                Arguments.of("POST", "/v2/..%2f..%2fevil6/blobs/uploads/?digest=" + DIGEST, true),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?mount=" + DIGEST + "&from=..%2F..%2Fevil7", false),
                Arguments.of("POST", "/v2/ok/blobs/uploads/?mount=" + DIGEST + "&from=../../../evil8", false),
                Arguments.of("GET", "/v2/ok/blobs/uploads/..%2F..%2F..%2Fevil9", true),
                Arguments.of("PATCH", "/v2/ok/blobs/uploads/..%2F..%2F..%2Fevil10", true),
                Arguments.of("PUT", "/v2/ok/blobs/uploads/..%2F..%2F..%2Fevil11?digest=" + DIGEST, true),
                Arguments.of("DELETE", "/v2/ok/blobs/uploads/..%2F..%2F..%2Fevil12", true),
                Arguments.of("PATCH", "/v2/ok/blobs/uploads/%2e%2e", true),
                Arguments.of("PATCH", "/v2/ok/blobs/uploads/..%5C..%5Cevil13", true),
                Arguments.of("PUT", "/v2/ok/manifests/..%2F..%2Fevil14", true),
                Arguments.of("PUT", "/v2/ok/manifests/%2e%2e", true),
                Arguments.of("DELETE", "/v2/ok/manifests/..%2F..%2F..%2F..%2F", true),
                Arguments.of("DELETE", "/v2/..%2f..%2fevil15/manifests/x", true),
                Arguments.of("DELETE", "/v2/ok/blobs/sha256:..%2F..%2F..%2F..%2Fevil16", true),
                Arguments.of("GET", "/v2/ok/referrers/sha256:..%2F..%2Fevil17", true),
                Arguments.of("GET", "/v2/ok/tags/list?last=../../../../evil18", false));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("traversals")
    void traversal_rejectedAndNothingOutsideRoots(String method, String path, boolean mustReject) throws IOException {
        String body = "{\"schemaVersion\":2}";
        client.pushBlob("ok", RegistryClient.randomBytes(10));
        KuboNode kubo = KuboNode.shared();
        Set<String> rootBefore = mfsNames(kubo, "/");
        String rootName = gateway.mfsRoot().substring(1);
        assertTrue(rootBefore.contains(rootName), "the configured MFS root exists: " + rootBefore);
        Set<String> insideBefore = mfsNames(kubo, gateway.mfsRoot());

        HttpResponse<byte[]> r = client.send(method, path, BodyPublishers.ofString(body),
                "Content-Type", method.equals("PUT") && path.contains("/manifests/") ? MediaTypes.OCI_MANIFEST : OCTET_STREAM);

        assertTrue(r.statusCode() < 500, describe(r));
        if (mustReject || r.statusCode() >= 400) {
            assertTrue(r.statusCode() >= 400, describe(r));
            RegistryClient.assertErrorBody(r);
        }
        Set<String> rootAfter = mfsNames(kubo, "/");
        Set<String> created = new TreeSet<>(rootAfter);
        created.removeAll(rootBefore);
        assertTrue(created.isEmpty(), "nothing new at the MFS top level: " + created);
        assertTrue(rootAfter.stream().noneMatch(n -> n.contains("evil")), rootAfter.toString());
        Set<String> insideAfter = mfsNames(kubo, gateway.mfsRoot());
        assertTrue(insideAfter.stream().noneMatch(n -> n.contains("evil")), insideAfter.toString());
        assertTrue(insideBefore.containsAll(insideAfter) || insideAfter.stream().allMatch(n -> n.matches("[a-z_]+")),
                "only layout directories inside the root: " + insideAfter);
        assertTrue(mfsNames(kubo, gateway.mfsRoot() + "/repositories").stream().noneMatch(n -> n.contains("evil")));
        try (Stream<Path> inside = Files.walk(tmp); Stream<Path> beside = Files.list(tmp.getParent())) {
            List<Path> evil = Stream.concat(inside, beside)
                    .filter(p -> p.getFileName() != null && p.getFileName().toString().matches("evil[0-9]+.*")).toList();
            assertTrue(evil.isEmpty(), "files created on disk: " + evil);
        }
    }

    private static Set<String> mfsNames(KuboNode kubo, String dir) {
        String listing = kubo.rpc("files/ls?arg=" + dir);
        Set<String> names = new TreeSet<>();
        try {
            JsonNode entries = RegistryClient.JSON.readTree(listing).get("Entries");
            if (entries != null && entries.isArray()) {
                entries.forEach(e -> names.add(e.get("Name").asText()));
            }
        } catch (IOException e) {
            throw new AssertionError("files/ls " + dir + ": " + listing, e);
        }
        return names;
    }

    // ---- error JSON on every error -----------------------------------------------------------

    @Test
    void errors_haveJsonBodyAndContentType() {
        List<HttpResponse<byte[]>> errors = List.of(
                client.get("/v2/e/blobs/" + DIGEST),
                client.get("/v2/e/manifests/nope"),
                client.get("/v2/e/tags/list"),
                client.get("/v2/e/blobs/uploads/" + UUID.randomUUID()),
                client.get("/v2/E/tags/list"),
                client.get("/v2/e/blobs/sha256:1"));

        for (HttpResponse<byte[]> r : errors) {
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, describe(r));
            JsonNode error = RegistryClient.assertErrorBody(r);
            assertFalse(error.get("message").asText().isEmpty(), "a message: " + describe(r));
        }
    }

    // ---- the IPFS node is down --------------------------------------------------------------

    @Test
    void nodeDown_blobGet_503Quickly() throws Exception {
        gateway.close();
        gateway = null;
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        long startNanos = System.nanoTime();
        gateway = TestGateway.start("http://127.0.0.1:" + closedPort, "/t-" + UUID.randomUUID(), tmp.resolve("down"),
                java.util.Map.of());
        Duration startup = Duration.ofNanos(System.nanoTime() - startNanos);
        client = new RegistryClient(gateway.client().base(), Duration.ofSeconds(30));

        long t0 = System.nanoTime();
        HttpResponse<byte[]> blob = client.get("/v2/down/blobs/" + DIGEST);
        Duration blobTime = Duration.ofNanos(System.nanoTime() - t0);
        long t1 = System.nanoTime();
        HttpResponse<byte[]> manifest = client.get("/v2/down/manifests/latest");
        Duration manifestTime = Duration.ofNanos(System.nanoTime() - t1);
        long t2 = System.nanoTime();
        HttpResponse<byte[]> upload = client.post("/v2/down/blobs/uploads/?digest=" + RegistryClient.digestOf(new byte[] {1}),
                new byte[] {1}, "Content-Type", OCTET_STREAM);
        Duration uploadTime = Duration.ofNanos(System.nanoTime() - t2);

        System.out.printf("node down: startup %d ms, blob GET %d ms, manifest GET %d ms, upload %d ms%n",
                startup.toMillis(), blobTime.toMillis(), manifestTime.toMillis(), uploadTime.toMillis());
        assertOciError(blob, 503, "UNAVAILABLE");
        assertTrue(blobTime.toSeconds() < 10, "blob GET took " + blobTime);
        assertOciError(manifest, 503, "UNAVAILABLE");
        assertTrue(manifestTime.toSeconds() < 10, "manifest GET took " + manifestTime);
        assertOciError(upload, 503, "UNAVAILABLE");
        assertTrue(uploadTime.toSeconds() < 10, "upload took " + uploadTime);
        // issue 9: the detail said which node URL failed, and sometimes which MFS path and Java class
        for (HttpResponse<byte[]> r : List.of(blob, manifest, upload)) {
            String detail = RegistryClient.assertErrorBody(r).get("detail").asText();
            assertFalse(detail.contains(String.valueOf(closedPort)) || detail.contains("127.0.0.1")
                    || detail.contains("/t-") || detail.contains("Exception"), describe(r));
        }
    }

    // ---- errors Jetty answers itself (issue 9: every 400 was NAME_INVALID, 501 UNAVAILABLE) -------

    /** Sends raw bytes and returns the status and the body of the answer (Jetty closes after these errors). */
    private RawAnswer raw(String request) throws IOException {
        java.net.URI base = client.base();
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(answer.substring(9, 12));
            int bodyStart = answer.indexOf("\r\n\r\n");
            return new RawAnswer(status, bodyStart < 0 ? "" : answer.substring(bodyStart + 4));
        }
    }

    private record RawAnswer(int status, String body) {
        JsonNode error() throws IOException {
            JsonNode first = RegistryClient.JSON.readTree(body).get("errors").get(0);
            assertTrue(first.get("message").isTextual() && first.has("detail"), body);
            return first;
        }
    }

    @Test
    void jetty_headersTooLarge_431Unsupported() throws IOException {
        RawAnswer r = raw("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n");

        assertEquals(431, r.status(), r.body());
        assertEquals("UNSUPPORTED", r.error().get("code").asText());
    }

    @Test
    void jetty_uriTooLong_414NameInvalid() throws IOException {
        RawAnswer r = raw("GET /v2/" + "a/".repeat(20_000) + "tags/list HTTP/1.1\r\nHost: x\r\n\r\n");

        assertTrue(r.status() == 414 || r.status() == 431, r.status() + " " + r.body());
        assertEquals(r.status() == 414 ? "NAME_INVALID" : "UNSUPPORTED", r.error().get("code").asText());
    }

    @Test
    void jetty_unknownHttpVersion_unsupportedNotNameInvalid() throws IOException {
        RawAnswer r = raw("GET /v2/a/tags/list HTTP/1.7\r\nHost: x\r\n\r\n");

        assertTrue(r.status() == 505 || r.status() == 400, r.status() + " " + r.body());
        assertEquals("UNSUPPORTED", r.error().get("code").asText());
    }

    @Test
    void jetty_badContentLength_400UnsupportedNotNameInvalid() throws IOException {
        RawAnswer r = raw("PUT /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");

        assertEquals(400, r.status(), r.body());
        assertEquals("UNSUPPORTED", r.error().get("code").asText());
    }
}
