package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.web.TestGateway;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mirrorball gc} offline, with images pushed by skopeo: a deleted image's space is freed on the
 * embedded node while a layer another image shares survives; a dry run changes nothing; the command is
 * refused while the gateway runs; pulled-through content within its retention survives on Kubo.
 */
final class GcCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private DockerRegistry registry;

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run mirrorball(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(env);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString().trim(), err.toString().trim());
    }

    private static HttpResponse<String> send(String method, URI uri) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                    .header("Accept", "application/vnd.oci.image.manifest.v1+json,"
                            + "application/vnd.docker.distribution.manifest.v2+json")
                    .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> send(String method, String path) {
        return send(method, URI.create(gateway.uri() + path));
    }

    private static long bytesOnDisk(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // removed while walked
                }
            }).sum();
        }
    }

    @Test
    void gc_embeddedAfterDelete_freesTheLayerKeepsTheSharedOne() throws Exception {
        OciLayoutBuilder.Image a = OciLayoutBuilder.at(tmp.resolve("a")).seed(5).layer(100_000, false)
                .layer(3 << 20, false).build("v1");
        OciLayoutBuilder.Image b = OciLayoutBuilder.at(tmp.resolve("b")).seed(5).layer(100_000, false)
                .seed(9).layer(50_000, false).build("v1");
        String mfsRoot = "/gc-" + UUID.randomUUID();
        Path gw = tmp.resolve("gw");
        gateway = TestGateway.start("embedded", mfsRoot, gw, Map.of());
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        String host = gateway.uri().getAuthority();
        skopeo.copy(a.skopeoRef(), "docker://" + host + "/team/a:v1");
        skopeo.copy(b.skopeoRef(), "docker://" + host + "/team/b:v1");
        // the layers as pushed (skopeo may convert them on the way)
        JsonNode layersOfA = JSON.readTree(send("GET", "/v2/team/a/manifests/v1").body()).path("layers");
        JsonNode layersOfB = JSON.readTree(send("GET", "/v2/team/b/manifests/v1").body()).path("layers");
        Digest shared = Digest.parse(layersOfA.path(0).path("digest").asText());
        Digest unique = Digest.parse(layersOfA.path(1).path("digest").asText());
        long layerSize = layersOfA.path(1).path("size").asLong();
        assertEquals(shared.toString(), layersOfB.path(0).path("digest").asText(), "the images share a layer");
        HttpResponse<String> head = send("HEAD", "/v2/team/a/manifests/v1");
        String cid = head.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
        Digest manifest = Digest.parse(head.headers().firstValue("Docker-Content-Digest").orElseThrow());
        String hex = manifest.hex();

        HttpResponse<String> delete = send("DELETE", "/v2/team/a/manifests/" + manifest);
        assertEquals(202, delete.statusCode(), delete.body());

        HttpResponse<String> byName = send("GET", "/v2/team/a/manifests/" + manifest);
        assertEquals(404, byName.statusCode());
        assertTrue(byName.body().contains("MANIFEST_UNKNOWN"), byName.body());
        assertEquals(404, send("GET", "/v2/team/a/manifests/v1").statusCode(), "the tag went with it");
        assertEquals(404, send("GET", "/v2/" + hex + "/manifests/" + manifest).statusCode(),
                "digest repository");
        assertEquals(404, send("GET", "/v2/" + cid + "/manifests/latest").statusCode(),
                "CID repository, not cloned again from the blocks the node still holds");
        Map<String, String> env = gateway.env();

        Run refused = mirrorball(env, "gc");
        assertEquals(StoreCommands.EXIT_STORE_UNUSABLE, refused.code(), refused.err());
        assertTrue(refused.err().contains("running gateway") && refused.err().contains("--url"), refused.err());

        gateway.close();
        gateway = null;
        Path data = gw.resolve("ipfs-embedded");
        long before = bytesOnDisk(data);

        Run dryRun = mirrorball(env, "gc", "--dry-run", "--output", "json");
        assertEquals(0, dryRun.code(), dryRun.err());
        JsonNode listed = JSON.readTree(dryRun.out());
        assertTrue(listed.path("dryRun").asBoolean(), dryRun.out());
        assertTrue(dryRun.out().contains(unique.toString()), "the deleted image's own layer would go: " + dryRun.out());
        assertFalse(dryRun.out().contains(shared.toString()), "the shared layer stays: " + dryRun.out());
        assertEquals(before, bytesOnDisk(data), "a dry run changes nothing");

        Run gc = mirrorball(env, "gc");
        assertEquals(0, gc.code(), gc.err());
        assertTrue(gc.out().contains(unique.toString()), gc.out());
        long after = bytesOnDisk(data);
        assertTrue(before - after >= layerSize, "freed " + (before - after) + " bytes, the layer has " + layerSize);

        gateway = TestGateway.start("embedded", mfsRoot, gw, Map.of());
        host = gateway.uri().getAuthority();
        skopeo.copy("docker://" + host + "/team/b:v1", "dir:" + tmp.resolve("out-b"));
        assertTrue(Files.size(tmp.resolve("out-b").resolve(shared.hex())) > 0, "the shared layer is pullable");
        assertEquals(404, send("GET", "/v2/team/a/blobs/" + unique).statusCode(), "the deleted layer is gone");
        assertEquals(404, send("GET", "/v2/" + cid + "/manifests/latest").statusCode());
        assertEquals(200, send("GET", "/v2/team/b/manifests/v1").statusCode());
    }

    @Test
    void gc_kuboPulledThroughWithinRetention_survives() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(7).layer(80_000, true)
                .build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/team/cached:v1");
        String mfsRoot = "/gc-" + UUID.randomUUID();
        Map<String, String> upstream = Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString());
        gateway = TestGateway.start(KuboNode.shared().apiUrl().toString(), mfsRoot, tmp.resolve("gw"), upstream);
        skopeo.copy("docker://" + gateway.uri().getAuthority() + "/team/cached:v1", "dir:" + tmp.resolve("out1"));
        Map<String, String> env = gateway.env();
        String layer = image.layerDigests().get(0).toString();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!mirrorball(env, "cache", "ls").out().contains(layer) && System.nanoTime() < deadline) {
            Thread.sleep(100); // the ledger hears of a mirrored blob when its add is done
        }
        Run online = mirrorball(env, "gc", "--url", gateway.uri().toString(), "--dry-run", "--output", "json");
        assertEquals(0, online.code(), online.err());
        assertTrue(JSON.readTree(online.out()).path("dryRun").asBoolean(), online.out());
        assertFalse(online.out().contains(layer), "cached within its retention: " + online.out());
        gateway.close(); // flushes the cache ledger
        gateway = null;

        Run gc = mirrorball(env, "gc", "--output", "json");

        assertEquals(0, gc.code(), gc.err());
        assertFalse(gc.out().contains(image.layerDigests().get(0).toString()), gc.out());
        registry.close();
        registry = null;
        gateway = TestGateway.start(KuboNode.shared().apiUrl().toString(), mfsRoot, tmp.resolve("gw"), upstream);
        HttpResponse<String> blob = send("GET", "/v2/team/cached/blobs/" + image.layerDigests().get(0));
        assertEquals(200, blob.statusCode(), "served from the store with the upstream gone");
    }
    private static long repoSize(KuboNode kubo) throws IOException {
        return JSON.readTree(kubo.rpc("repo/stat?size-only=true")).path("RepoSize").asLong();
    }

    @Test
    void gc_kuboGcConfigured_freesTheDeletedLayersBlocksOnKubo() throws Exception {
        OciLayoutBuilder.Image a = OciLayoutBuilder.at(tmp.resolve("a")).seed(21).layer(100_000, false)
                .layer(4 << 20, false).build("v1");
        OciLayoutBuilder.Image b = OciLayoutBuilder.at(tmp.resolve("b")).seed(21).layer(100_000, false)
                .build("v1");
        // a node of its own: Kubo's gc deletes whatever the shared test node holds unpinned
        try (KuboNode kubo = KuboNode.start(tmp.resolve("kubo"))) {
            String mfsRoot = "/gc-" + UUID.randomUUID();
            Map<String, String> kuboGc = Map.of("MIRRORBALL_STORAGE_IPFS_KUBO_GC", "true");
            gateway = TestGateway.start(kubo.apiUrl().toString(), mfsRoot, tmp.resolve("gw"), kuboGc);
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
            skopeo.copy(a.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/team/a:v1");
            skopeo.copy(b.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/team/b:v1");
            JsonNode layersOfA = JSON.readTree(send("GET", "/v2/team/a/manifests/v1").body()).path("layers");
            Digest unique = Digest.parse(layersOfA.path(1).path("digest").asText());
            long layerSize = layersOfA.path(1).path("size").asLong();
            HttpResponse<String> head = send("HEAD", "/v2/team/a/manifests/v1");
            String manifest = head.headers().firstValue("Docker-Content-Digest").orElseThrow();
            assertEquals(202, send("DELETE", "/v2/team/a/manifests/" + manifest).statusCode());
            Map<String, String> env = gateway.env();
            gateway.close();
            gateway = null;
            long before = repoSize(kubo);

            Run gc = mirrorball(env, "gc", "--output", "json");

            assertEquals(0, gc.code(), gc.err());
            assertTrue(gc.out().contains(unique.toString()), gc.out());
            long freed = before - repoSize(kubo);
            // Kubo's repo size is its datastore's estimate: within a few percent of the layer's bytes
            assertTrue(freed >= layerSize * 9 / 10, "Kubo freed " + freed + " bytes, the deleted layer has " + layerSize);
            assertTrue(JSON.readTree(gc.out()).path("freedBytes").asLong() >= layerSize * 9 / 10, gc.out());
            gateway = TestGateway.start(kubo.apiUrl().toString(), mfsRoot, tmp.resolve("gw"), kuboGc);
            skopeo.copy("docker://" + gateway.uri().getAuthority() + "/team/b:v1", "dir:" + tmp.resolve("out-b"));
            HttpResponse<String> cid = send("GET", "/v2/" + head.headers().firstValue("X-Ipfs-Path").orElseThrow()
                    .substring("/ipfs/".length()) + "/manifests/latest");
            assertEquals(404, cid.statusCode(), "the deleted image is not cloned back: " + cid.body());
        }
    }
}
