package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.MigrateProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mirrorball serve} in a child JVM: the start-up line, the open-push warning, one-line fatal
 * errors, the access and event lines in both formats (log.format), and {@code cid} against a gateway
 * that is not there.
 */
final class ServeLogsTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");
    private static final Duration START = Duration.ofMinutes(1);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OPEN_PUSHES = "pushes are open to anyone";

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Map<String, String> env(String name, String addr) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MIRRORBALL_HTTP_ADDR", addr);
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve(name).resolve("ipfs").toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve(name).resolve("uploads").toString());
        return env;
    }

    private MigrateProcess serve(String name, Map<String, String> env) {
        return MigrateProcess.builder(tmp.resolve("run-" + name)).args("serve").env(env).start();
    }

    private static URI awaitListening(MigrateProcess run) throws InterruptedException {
        Matcher matcher = run.awaitStdout(LISTENING, START).orElseThrow(() -> new AssertionError(
                "no 'listening on'; stdout: " + run.stdout() + " stderr: " + run.stderr()));
        return URI.create(matcher.group(1));
    }

    @Test
    void serve_jsonFormat_everyLineIsJsonWithAccessAndEventFields() throws Exception {
        Path htpasswd = HtpasswdFile.write(tmp.resolve("htpasswd"), "alice", "s3cret");
        Map<String, String> env = env("json", "127.0.0.1:0");
        env.put("MIRRORBALL_LOG_FORMAT", "json");
        env.put("MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString());
        try (MigrateProcess run = serve("json", env)) {
            URI uri = awaitListening(run);
            assertNotEquals(0, uri.getPort(), run.stdout());
            String alice = HtpasswdFile.basic("alice", "s3cret");
            String wrong = HtpasswdFile.basic("alice", "guess");
            assertEquals(401, send(uri, "GET", "/v2/", wrong, null).statusCode());
            byte[] blob = "a layer that is not very large".repeat(100).getBytes(StandardCharsets.UTF_8);
            Digest digest = push(uri, alice, "app", blob);
            HttpResponse<byte[]> get = send(uri, "GET", "/v2/app/blobs/" + digest, alice, null);
            assertEquals(200, get.statusCode());
            assertEquals(blob.length, get.body().length);

            JsonNode blobGet = awaitJsonLine(run, line -> "mirrorball.access".equals(line.path("logger").asText())
                    && line.path("path").asText().equals("/v2/app/blobs/" + digest));
            assertEquals("GET", blobGet.path("method").asText());
            assertEquals(200, blobGet.path("status").asInt());
            assertEquals(blob.length, blobGet.path("bytes_out").asLong());
            assertEquals(0, blobGet.path("bytes_in").asLong());
            assertEquals("alice", blobGet.path("user").asText());
            assertEquals("ipfs", blobGet.path("source").asText());
            assertEquals("INFO", blobGet.path("level").asText());
            assertTrue(blobGet.path("duration_ms").isNumber(), blobGet.toString());
            assertEquals(get.headers().firstValue("X-Request-Id").orElseThrow(), blobGet.path("request_id").asText());

            JsonNode upload = awaitJsonLine(run, line -> "mirrorball.access".equals(line.path("logger").asText())
                    && line.path("method").asText().equals("POST") && line.path("path").asText().contains(digest.hex()));
            assertEquals(blob.length, upload.path("bytes_in").asLong());
            assertEquals(201, upload.path("status").asInt());

            JsonNode refused = awaitJsonLine(run, line -> "mirrorball.access".equals(line.path("logger").asText())
                    && line.path("status").asInt() == 401);
            assertEquals("alice", refused.path("user").asText());
            assertTrue(refused.path("login_failed").asBoolean(), refused.toString());

            JsonNode publish = awaitJsonLine(run, line -> "mirrorball.event".equals(line.path("logger").asText())
                    && "publish".equals(line.path("event").asText()));
            assertEquals("app", publish.path("repository").asText());
            assertTrue(publish.path("cid").asText().startsWith("bafy"), publish.toString());
            assertTrue(publish.path("digest").asText().startsWith("sha256:"), publish.toString());
            assertTrue(publish.path("message").asText().startsWith("publish repository=app digest=sha256:"),
                    publish.toString());

            for (String line : lines(run.stderr())) {
                JsonNode node = JSON.readTree(line);
                for (String field : List.of("timestamp", "level", "logger", "thread", "message")) {
                    assertTrue(node.hasNonNull(field), field + " missing from " + line);
                }
            }
            assertFalse(run.stderr().contains(OPEN_PUSHES), run.stderr());
        }
    }

    @Test
    void serve_textFormatThroughUpstream_logsUpstreamThenCache() throws Exception {
        try (MigrateProcess upstream = serve("upstream", env("upstream", "127.0.0.1:0"))) {
            URI upstreamUri = awaitListening(upstream);
            byte[] blob = "pulled through".repeat(1000).getBytes(StandardCharsets.UTF_8);
            Digest digest = push(upstreamUri, null, "lib/app", blob);
            Map<String, String> env = env("mirror", "127.0.0.1:0");
            env.put("MIRRORBALL_UPSTREAM_URL", upstreamUri.toString());
            try (MigrateProcess mirror = serve("mirror", env)) {
                URI uri = awaitListening(mirror);
                assertTrue(mirror.stdout().contains("listening on http://127.0.0.1:" + uri.getPort() + " (ipfs: "),
                        mirror.stdout());
                HttpResponse<byte[]> first = send(uri, "GET", "/v2/lib/app/blobs/" + digest, null, null);
                assertEquals(200, first.statusCode());
                assertEquals(blob.length, first.body().length);
                String upstreamLine = awaitLine(mirror, line -> line.contains("mirrorball.access")
                        && line.contains("/v2/lib/app/blobs/" + digest) && line.contains("source=upstream"));
                assertTrue(upstreamLine.contains(" status=200 "), upstreamLine);
                assertTrue(upstreamLine.contains(" bytes_out=" + blob.length + " "), upstreamLine);
                assertTrue(upstreamLine.contains(" user=- "), upstreamLine);
                assertTrue(upstreamLine.contains(" agent=\"Java-http-client/"), upstreamLine);
                assertTrue(upstreamLine.matches("\\d{4}-\\d\\d-\\d\\dT\\S+ INFO \\[.*"), upstreamLine);
                // the copy mirrored into IPFS answers the next pulls without the upstream
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                String cacheLine = null;
                while (cacheLine == null && System.nanoTime() < deadline) {
                    assertEquals(200, send(uri, "GET", "/v2/lib/app/blobs/" + digest, null, null).statusCode());
                    cacheLine = lines(mirror.stderr()).stream().filter(line -> line.contains("mirrorball.access")
                            && line.contains("source=cache")).findFirst().orElse(null);
                    Thread.sleep(200);
                }
                assertTrue(cacheLine != null, mirror.stderr());
                assertTrue(cacheLine.contains(" bytes_out=" + blob.length + " "), cacheLine);
                assertFalse(mirror.stderr().contains(OPEN_PUSHES), mirror.stderr());
            }
        }
    }

    @Test
    void serve_allInterfacesWithoutAuth_printsAddressAndWarnsOfOpenPushes() throws Exception {
        try (MigrateProcess run = serve("open", env("open", "0.0.0.0:0"))) {
            URI uri = awaitListening(run);
            assertTrue(uri.toString().startsWith("http://0.0.0.0:"), run.stdout());
            assertNotEquals(0, uri.getPort());
            assertTrue(run.stdout().contains("listening on http://0.0.0.0:" + uri.getPort() + " (all interfaces; ipfs: "),
                    run.stdout());
            String warning = awaitLine(run, line -> line.contains(OPEN_PUSHES));
            assertTrue(warning.contains(" WARN "), warning);
        }
    }

    @Test
    void serve_portInUse_printsOneLineAndExits1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             MigrateProcess run = serve("taken", env("taken", "127.0.0.1:" + taken.getLocalPort()))) {
            assertEquals(1, run.awaitExit(START), run.stderr());
            assertEquals("mirrorball: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + ": address already in use", run.stderr().strip());
            assertEquals("", run.stdout());
        }
    }

    @Test
    void serve_dataDirectoryLocked_printsOneLineAndExits3() throws Exception {
        try (MigrateProcess first = serve("first", env("shared", "127.0.0.1:0"))) {
            awaitListening(first);
            try (MigrateProcess second = serve("second", env("shared", "127.0.0.1:0"))) {
                assertEquals(3, second.awaitExit(START), second.stderr());
                assertTrue(second.stderr().strip().matches("mirrorball: cannot open the data directory: embedded IPFS "
                        + "node \\S+ is already open \\(repo.lock is held\\); is another mirrorball running\\?"),
                        second.stderr());
                assertNoStackTrace(second.stderr());
            }
        }
    }

    @Test
    void serve_portInUseAtDebug_printsTheStackTraceToo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Map<String, String> env = env("debug", "127.0.0.1:" + taken.getLocalPort());
            env.put("MIRRORBALL_LOG_LEVEL", "debug");
            try (MigrateProcess run = serve("debug", env)) {
                assertEquals(1, run.awaitExit(START), run.stderr());
                assertTrue(run.stderr().contains("java.net.BindException"), run.stderr());
                assertTrue(run.stderr().contains("mirrorball: cannot listen on 127.0.0.1:" + taken.getLocalPort()),
                        run.stderr());
            }
        }
    }

    @Test
    void cid_unreachableGateway_printsOneLineAndExits1() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        String registry = "http://127.0.0.1:" + closed;
        try (MigrateProcess run = MigrateProcess.builder(tmp.resolve("run-cid"))
                .args("cid", "app:v1", "--registry", registry).start()) {
            assertEquals(1, run.awaitExit(START), run.stderr());
            assertEquals("mirrorball cid: cannot reach the gateway at " + registry + ": connection refused",
                    run.stderr().strip());
        }
    }

    private static void assertNoStackTrace(String text) {
        assertFalse(text.contains("\tat ") || text.contains("Exception"), text);
    }

    /** Pushes {@code blob} as the layer of a manifest tagged v1; returns the blob's digest. */
    private Digest push(URI uri, String authorization, String repository, byte[] blob) throws Exception {
        Digest digest = Digest.ofBytes(blob);
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.ofBytes(config);
        assertEquals(201, send(uri, "POST", "/v2/" + repository + "/blobs/uploads/?digest=" + digest, authorization,
                blob).statusCode());
        assertEquals(201, send(uri, "POST", "/v2/" + repository + "/blobs/uploads/?digest=" + configDigest,
                authorization, config).statusCode());
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":2},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + digest + "\",\"size\":" + blob.length
                + "}]}";
        HttpRequest.Builder put = HttpRequest.newBuilder(uri.resolve("/v2/" + repository + "/manifests/v1"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString(manifest));
        if (authorization != null) {
            put.header("Authorization", authorization);
        }
        HttpResponse<String> response = http.send(put.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, response.statusCode(), response.body());
        return digest;
    }

    private HttpResponse<byte[]> send(URI uri, String method, String path, String authorization, byte[] body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri.resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Complete lines only: the child may be writing the last one. */
    private static List<String> lines(String text) {
        int end = text.lastIndexOf('\n');
        if (end < 0) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        for (String line : text.substring(0, end).split("\n")) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }

    private static String awaitLine(MigrateProcess run, Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> line = lines(run.stderr()).stream().filter(wanted).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no such line in stderr: " + run.stderr());
    }

    private static JsonNode awaitJsonLine(MigrateProcess run, Predicate<JsonNode> wanted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : lines(run.stderr())) {
                JsonNode node = JSON.readTree(line);
                if (wanted.test(node)) {
                    return node;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no such line in stderr: " + run.stderr());
    }
}
