package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.SourceRegistryFixture;
import io.mirrorball.web.TestGateway;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mirrorball migrate} from a real docker-registry (3 repositories, one namespaced, several
 * tags, a multi-arch index, a Docker schema 2 image, a referrer) into real gateways on Kubo.
 */
final class MigrateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ACCEPT = String.join(", ", "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");

    @TempDir
    static Path shared;

    static SourceRegistryFixture source;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fill() {
        source = SourceRegistryFixture.start(shared.resolve("source"));
    }

    @AfterAll
    static void stop() {
        source.close();
    }

    /** Runs the command in this JVM: exit code, stdout, stderr. */
    static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(env);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    private List<String> migrateArgs(TestGateway gateway, String... more) {
        List<String> args = new ArrayList<>(List.of("migrate", "--to", gateway.uri().toString(), "--src-plain-http",
                "--progress", "plain", "--output", "json", "--state-dir", tmp.resolve("state").toString()));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void migrate_wholeRegistry_everyTagByteIdenticalAndEveryCidAPlainPushs() throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Map<Digest, Long> before = source.accessLog().blobBytesServed();

            Run first = run(Map.of(), migrateArgs(gateway, "docker://" + source.hostPort()).toArray(String[]::new));

            assertEquals(0, first.code(), first.err());
            JsonNode results = first.json();
            assertEquals(source.references().size(), results.size(), first.out());
            // the totals are final only once every listed image is planned
            assertTrue(first.err().contains("planning done: " + source.references().size() + " images"), first.err());
            Map<String, String> cids = new HashMap<>();
            for (JsonNode result : results) {
                assertEquals(List.of("source", "digest", "cid"), fieldNames(result));
                String reference = result.get("source").asText().substring(("docker://" + source.hostPort() + "/").length());
                assertEquals(source.digest(reference).toString(), result.get("digest").asText(), reference);
                cids.put(reference, result.get("cid").asText());
            }
            for (Map.Entry<String, Digest> reference : source.references().entrySet()) {
                String[] parts = reference.getKey().split(":", 2);
                byte[] served = manifest(gateway.uri(), parts[0], parts[1]);
                assertEquals(reference.getValue(), Digest.ofBytes(served), "byte-identical " + reference.getKey());
                assertEquals(new String(manifest(source.uri(), parts[0], parts[1]), StandardCharsets.UTF_8),
                        new String(served, StandardCharsets.UTF_8), reference.getKey());
            }
            // the referrer of app:1.1.0 answers the gateway's referrers API
            String referrers = get(gateway.uri().resolve("/v2/app/referrers/" + source.digest("app:1.1.0")));
            assertTrue(referrers.contains(source.referrerDigest().toString()), referrers);
            // every blob crossed once
            Map<Digest, Long> served = minus(source.accessLog().blobBytesServed(), before);
            for (Map.Entry<Digest, Long> blob : served.entrySet()) {
                assertTrue(blob.getValue() <= source.blobSizes().getOrDefault(blob.getKey(), 0L),
                        blob.getKey() + " served " + blob.getValue());
            }

            // a plain skopeo push of the same images gives the same CIDs
            try (TestGateway plain = TestGateway.start(tmp.resolve("plain"))) {
                for (String reference : List.of("app:1.0.0", "org/tools:multi", "legacy:v1")) {
                    source.skopeo().copyAll("docker://" + source.hostPort() + "/" + reference,
                            "docker://" + plain.uri().getAuthority() + "/" + reference);
                    assertEquals(cids.get(reference), ipfsPath(plain.uri(), reference), reference);
                }
            }

            // run again: nothing to copy, the same CIDs
            Map<Digest, Long> beforeSecond = source.accessLog().blobBytesServed();
            Run second = run(Map.of(), migrateArgs(gateway, "docker://" + source.hostPort()).toArray(String[]::new));
            assertEquals(0, second.code(), second.err());
            assertEquals(first.json(), second.json());
            assertEquals(Map.of(), minus(source.accessLog().blobBytesServed(), beforeSecond), "no blob fetched again");
        }
    }

    @Test
    void migrate_tagFiltersAndPlatform_copyExactlyWhatIsAsked() throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Run run = run(Map.of(), migrateArgs(gateway, "--semver", ">=1.0.0 <2", "--exclude", "1\\.0\\.0",
                    "docker://" + source.hostPort() + "/app").toArray(String[]::new));

            assertEquals(0, run.code(), run.err());
            assertEquals(1, run.json().size(), run.out());
            assertEquals("docker://" + source.hostPort() + "/app:1.1.0", run.json().get(0).get("source").asText());

            Run platform = run(Map.of(), migrateArgs(gateway, "--platform", "linux/arm64",
                    "docker://" + source.hostPort() + "/org/tools:multi").toArray(String[]::new));
            assertEquals(0, platform.code(), platform.err());
            Digest arm = source.platformDigests().get("linux/arm64");
            assertEquals(arm.toString(), platform.json().get(0).get("digest").asText());
            assertEquals(arm, Digest.ofBytes(manifest(gateway.uri(), "org/tools", "multi")));
        }
    }

    @Test
    void migrate_dryRun_writesNothing() throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Run run = run(Map.of(), "migrate", "--to", gateway.uri().toString(), "--src-plain-http", "--dry-run",
                    "--progress", "none", "--state-dir", tmp.resolve("state").toString(),
                    "docker://" + source.hostPort() + "/legacy:v1");

            assertEquals(0, run.code(), run.err());
            assertTrue(run.out().startsWith("SOURCE"), run.out());
            assertTrue(run.out().contains("dry run: 1 image(s) planned"), run.out());
            HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(gateway.uri().resolve("/v2/legacy/manifests/v1"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", ACCEPT).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertEquals(404, head.statusCode());
        }
    }

    /** One bad source fails alone: the others are copied, the exit code is 1, and the reason is named. */
    @Test
    void migrate_unknownImage_failsAloneWithNotFound() throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Run run = run(Map.of(), migrateArgs(gateway, "docker://" + source.hostPort() + "/app:9.9.9",
                    "docker://" + source.hostPort() + "/legacy:v1").toArray(String[]::new));

            assertEquals(1, run.code(), run.err());
            JsonNode json = run.json();
            assertEquals(2, json.size(), run.out());
            assertEquals("docker://" + source.hostPort() + "/legacy:v1", json.get(0).get("source").asText());
            assertEquals("NOT_FOUND", json.get(1).path("error").path("kind").asText(), run.out());
            assertTrue(json.get(1).path("error").path("message").asText().contains("app:9.9.9"), run.out());
            assertFalse(run.err().contains("Exception"), run.err());
        }
    }

    /** A source that refuses connections is retried with backoff, then fails as UNREACHABLE; the other source is copied. */
    @Test
    void migrate_unreachableSource_failsAloneAfterRetries() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Run run = run(Map.of(), migrateArgs(gateway, "--test-retry-scale", "0.001",
                    "docker://127.0.0.1:" + port + "/app:1", "docker://" + source.hostPort() + "/legacy:v1")
                    .toArray(String[]::new));

            assertEquals(1, run.code(), run.err());
            JsonNode json = run.json();
            assertEquals("docker://" + source.hostPort() + "/legacy:v1", json.get(0).get("source").asText(), run.out());
            assertEquals("UNREACHABLE", json.get(1).path("error").path("kind").asText(), run.out());
            assertTrue(run.err().contains("waiting"), "the retries are shown: " + run.err());
            assertFalse(run.out().contains("Exception"), run.out());
        }
    }

    @Test
    void migrate_unusableDestinationOrBadOptions_exit3Or2() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Run closed = run(Map.of(), "migrate", "--to", "http://127.0.0.1:" + port, "--src-plain-http",
                "--state-dir", tmp.resolve("state").toString(), "docker://" + source.hostPort() + "/app:1.0.0");
        assertEquals(MigrateCommand.EXIT_DESTINATION, closed.code(), closed.err());
        assertTrue(closed.err().contains("127.0.0.1:" + port), closed.err());
        assertFalse(closed.err().contains("Exception"), closed.err());

        Run regex = run(Map.of(), "migrate", "--to", "http://127.0.0.1:" + port, "--include", "(", "app");
        assertEquals(Main.EXIT_USAGE, regex.code(), regex.err());
        assertTrue(regex.err().contains("--include"), regex.err());

        Run range = run(Map.of(), "migrate", "--to", "http://127.0.0.1:" + port, "--semver", ">=x.y", "app");
        assertEquals(Main.EXIT_USAGE, range.code(), range.err());
    }

    /** --store writes into a stopped gateway's store (the embedded node); that gateway then serves it. */
    @Test
    void migrate_intoStore_gatewayOnThatStoreServesTheImagesUnderTheirCids() throws Exception {
        Map<String, String> env = Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_NODE", "embedded",
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString(),
                "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        String[] args = {"migrate", "--store", "--src-plain-http", "--progress", "plain", "--output", "json",
            "--state-dir", tmp.resolve("state").toString(), "docker://" + source.hostPort() + "/app:1.0.0",
            "docker://" + source.hostPort() + "/org/tools:multi"};

        Run run = run(env, args);

        assertEquals(0, run.code(), run.err());
        assertEquals(2, run.json().size(), run.out());
        try (io.mirrorball.web.GatewayServer server = io.mirrorball.web.GatewayServer.start(
                io.mirrorball.config.ConfigLoader.load(java.util.Optional.empty(), env))) {
            for (JsonNode result : run.json()) {
                String reference = result.get("source").asText().substring(("docker://" + source.hostPort() + "/").length());
                String[] parts = reference.split(":", 2);
                assertEquals(source.digest(reference), Digest.ofBytes(manifest(server.uri(), parts[0], parts[1])));
                assertEquals(result.get("cid").asText(), ipfsPath(server.uri(), reference), reference);
            }

            Run busy = run(env, args);
            assertEquals(MigrateCommand.EXIT_DESTINATION, busy.code(), busy.err());
            assertTrue(busy.err().contains("in use by a running gateway"), busy.err());
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static Map<Digest, Long> minus(Map<Digest, Long> after, Map<Digest, Long> before) {
        Map<Digest, Long> difference = new HashMap<>();
        after.forEach((digest, bytes) -> {
            long more = bytes - before.getOrDefault(digest, 0L);
            if (more != 0) {
                difference.put(digest, more);
            }
        });
        return difference;
    }

    static byte[] manifest(URI registry, String repository, String reference) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(
                registry.resolve("/v2/" + repository + "/manifests/" + reference)).header("Accept", ACCEPT).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode(), repository + ":" + reference);
        return response.body();
    }

    static String ipfsPath(URI gateway, String reference) throws Exception {
        String[] parts = reference.split(":", 2);
        HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(gateway.resolve("/v2/" + parts[0] + "/manifests/"
                + parts[1])).method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", ACCEPT).build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode(), reference);
        return head.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
    }

    private static String get(URI uri) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), uri.toString());
        return response.body();
    }
}
