package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.AccessLog;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pull-through from a real upstream (Debian's docker-registry with htpasswd auth) with a real client
 * (skopeo); upstream requests are counted in the registry's access log.
 */
final class UpstreamPullThroughTest {
    @TempDir
    Path tmp;
    private DockerRegistry registry;
    private TestGateway gateway;
    private Skopeo pusher;
    private Skopeo puller;
    private OciLayoutBuilder.Image image;
    private OciLayoutBuilder.MultiArch multi;

    @BeforeEach
    void setUp() {
        registry = DockerRegistry.builder(tmp.resolve("registry")).htpasswd("alice", "secret").start();
        pusher = Skopeo.in(tmp.resolve("skopeo-push")).login(registry.hostPort(), "alice", "secret");
        puller = Skopeo.in(tmp.resolve("skopeo-pull"));
        image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(11).layers(3, 3 * 1024 * 1024, true).build("v1");
        multi = OciLayoutBuilder.at(tmp.resolve("layout-multi")).seed(12).layers(2, 512 * 1024, true)
                .buildMultiArch("v1");
        pusher.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/team/app:v1");
        pusher.copyAll(multi.skopeoRef(), "docker://" + registry.hostPort() + "/multi:v1");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        registry.close();
    }

    private TestGateway start(String tagTtl) throws Exception {
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", registry.uri().toString(),
                "MIRRORBALL_UPSTREAM_USERNAME", "alice",
                "MIRRORBALL_UPSTREAM_PASSWORD", "secret",
                "MIRRORBALL_UPSTREAM_TAG_TTL", tagTtl));
        return gateway;
    }

    private String gw() {
        return gateway.client().base().getAuthority();
    }

    private static Digest digestOf(String raw) {
        return Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void pull_multiLayerImageAndIndex_sameDigestsAsUpstream() throws Exception {
        start("5m");
        puller.copy("docker://" + gw() + "/team/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        assertEquals(image.manifestDigest(), digestOf(puller.inspectRaw("docker://" + gw() + "/team/app:v1")));
        for (Digest layer : image.layerDigests()) {
            Path file = tmp.resolve("out/blobs/sha256/" + layer.hex());
            assertEquals(layer.hex(), sha256(file), "layer pulled through mirrorball");
        }
        puller.copyAll("docker://" + gw() + "/multi:v1", "oci:" + tmp.resolve("out-multi") + ":v1");
        assertEquals(multi.indexDigest(), digestOf(puller.inspectRaw("docker://" + gw() + "/multi:v1")));
        for (OciLayoutBuilder.Image platform : multi.platforms()) {
            for (Digest layer : platform.layerDigests()) {
                assertEquals(layer.hex(), sha256(tmp.resolve("out-multi/blobs/sha256/" + layer.hex())));
            }
        }
        // tags/list passes through
        JsonNode tags = RegistryClient.json(gateway.client().get("/v2/team/app/tags/list"));
        assertEquals("team/app", tags.get("name").asText());
        assertEquals("v1", tags.get("tags").get(0).asText());
        // an unknown name gets the upstream's own error body, unchanged (distribution puts an object in detail)
        HttpResponse<byte[]> unknown = gateway.client().get("/v2/nothere/manifests/v1");
        JsonNode passed = RegistryClient.assertOciError(unknown, 404, "MANIFEST_UNKNOWN");
        assertEquals("v1", passed.get("detail").get("Tag").asText());
    }

    @Test
    void upstreamDown_cachedTagAndMirroredBlobsStillPull_unknownTagClearError() throws Exception {
        start("1s");
        puller.copy("docker://" + gw() + "/team/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        awaitMirrored(image.layerDigests());
        registry.close();
        Thread.sleep(1200); // the tag is now stale: revalidation fails, the cached copy is served
        puller.copy("docker://" + gw() + "/team/app:v1", "oci:" + tmp.resolve("out2") + ":v1");
        for (Digest layer : image.layerDigests()) {
            assertEquals(layer.hex(), sha256(tmp.resolve("out2/blobs/sha256/" + layer.hex())));
        }
        HttpResponse<byte[]> stale = gateway.client().get("/v2/team/app/manifests/v1");
        assertEquals(200, stale.statusCode());
        assertTrue(stale.headers().firstValue("Warning").orElse("").contains("Stale"));
        HttpResponse<byte[]> unknownTag = gateway.client().get("/v2/team/app/manifests/v2");
        JsonNode error = RegistryClient.assertOciError(unknownTag, 502, "UNAVAILABLE");
        String detail = error.get("detail").asText();
        assertTrue(detail.contains("upstream unreachable") && detail.contains("v2"), detail);
    }

    @Test
    void twentyConcurrentPullsOfOneColdBlob_oneUpstreamBlobGet() throws Exception {
        start("5m");
        AccessLog log = new AccessLog(registry.log());
        RegistryClient.expect(gateway.client().get("/v2/team/app/manifests/v1"), 200, "manifest");
        Digest layer = image.layerDigests().get(0);
        String path = "/v2/team/app/blobs/" + layer;
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Callable<String> pull = () -> {
                    HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", path);
                    assertEquals(200, r.statusCode());
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    try (InputStream in = r.body()) {
                        byte[] buffer = new byte[65536];
                        int n;
                        while ((n = in.read(buffer)) > 0) {
                            md.update(buffer, 0, n);
                        }
                    }
                    return HexFormat.of().formatHex(md.digest());
                };
                results.add(pool.submit(pull));
            }
            for (Future<String> result : results) {
                assertEquals(layer.hex(), result.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, log.settledCount("GET", path + " "), "upstream GETs of the blob");
    }

    @Test
    void repeatedPullWithinTagTtl_noUpstreamManifestGet() throws Exception {
        start("5m");
        AccessLog log = new AccessLog(registry.log());
        puller.copy("docker://" + gw() + "/team/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        long gets = log.settledCount("GET", "/v2/team/app/manifests/");
        long heads = log.settledCount("HEAD", "/v2/team/app/manifests/");
        assertNotEquals(0, gets);
        puller.copy("docker://" + gw() + "/team/app:v1", "oci:" + tmp.resolve("out2") + ":v1");
        assertEquals(gets, log.settledCount("GET", "/v2/team/app/manifests/"), "no upstream manifest GET");
        assertEquals(heads, log.settledCount("HEAD", "/v2/team/app/manifests/"), "not even a HEAD within the TTL");
    }

    @Test
    void blobHeadAndRange_passThroughToUpstream() throws Exception {
        start("5m");
        AccessLog log = new AccessLog(registry.log());
        OciLayoutBuilder.Blob layer = image.layers().get(1);
        String path = "/v2/team/app/blobs/" + layer.digest();
        // the first request learns the upstream's Basic challenge (a 401 round trip); later ones send it up front
        RegistryClient.expect(gateway.client().get("/v2/team/app/manifests/v1"), 200, "manifest");
        long headsBefore = log.settledCount("HEAD", path + " ");   // the push made some
        long getsBefore = log.settledCount("GET", path + " ");
        HttpResponse<byte[]> head = gateway.client().head(path);
        assertEquals(200, head.statusCode());
        assertEquals(Long.toString(layer.size()), head.headers().firstValue("Content-Length").orElse(null));
        assertEquals(layer.digest().toString(), head.headers().firstValue("Docker-Content-Digest").orElse(null));
        HttpResponse<byte[]> range = gateway.client().get(path, "Range", "bytes=10-19");
        assertEquals(206, range.statusCode());
        assertEquals("bytes 10-19/" + layer.size(), range.headers().firstValue("Content-Range").orElse(null));
        byte[] expected = java.util.Arrays.copyOfRange(java.nio.file.Files.readAllBytes(
                tmp.resolve("layout/blobs/sha256/" + layer.digest().hex())), 10, 20);
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(range.body()));
        assertEquals(headsBefore + 1, log.settledCount("HEAD", path + " "), "the HEAD went upstream");
        assertEquals(getsBefore + 1, log.settledCount("GET", path + " "), "the Range GET went upstream");
    }

    private void awaitMirrored(List<Digest> digests) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        // a second store on the same node and MFS root sees what the gateway placed
        try (var node = io.mirrorball.ipfs.kubo.KuboRpcNode.connect(io.mirrorball.testing.KuboNode.shared().apiUrl(),
                java.time.Duration.ofSeconds(3), java.time.Duration.ofSeconds(30));
             var store = io.mirrorball.store.RegistryStore.open(node, gateway.mfsRoot(), tmp.resolve("probe-uploads"),
                     java.time.Duration.ofHours(1), java.time.Clock.systemUTC())) {
            for (Digest digest : digests) {
                while (store.blobs().stat(digest).isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError(digest + " was not mirrored into IPFS within 30 s");
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
