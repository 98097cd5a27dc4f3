package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real IPFS nodes peered over loopback, each behind its own gateway: what is pushed to one is
 * pulled by CID from the other, with skopeo; disco-layout images are pullable too.
 */
final class ContentAddressedPeersTest {
    @TempDir
    Path tmp;
    private KuboNode nodeA;
    private KuboNode nodeB;
    private GatewayServer gatewayA;
    private GatewayServer gatewayB;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        nodeA = KuboNode.start(tmp.resolve("a"));
        open.add(nodeA);
        nodeB = KuboNode.start(tmp.resolve("b"));
        open.add(nodeB);
        gatewayA = gateway(nodeA, "a");
        gatewayB = gateway(nodeB, "b");
    }

    private GatewayServer gateway(KuboNode node, String name) throws Exception {
        GatewayServer server = GatewayServer.start(ConfigLoader.load(Optional.empty(), Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_NODE", node.apiUrl().toString(),
                "MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT", "60s",
                "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads-" + name).toString())));
        open.add(server);
        return server;
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private static String host(GatewayServer server) {
        return server.uri().getAuthority();
    }

    private static String cidOf(GatewayServer server, String repoAndRef) throws Exception {
        String[] parts = repoAndRef.split(":");
        HttpResponse<Void> head = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri().resolve(
                        "/v2/" + parts[0] + "/manifests/" + parts[1])).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
                .build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        String path = head.headers().firstValue("X-Ipfs-Path").orElseThrow();
        return path.substring("/ipfs/".length());
    }

    @Test
    void skopeo_pushToA_pullByCidFromPeerB() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(41)
                .layers(3, 3 * 1024 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(gatewayA) + "/org/app:v1");
        String cid = cidOf(gatewayA, "org/app:v1");

        // before peering B cannot find it; after peering it clones it over bitswap
        nodeB.connect(nodeA);
        skopeo.copy("docker://" + host(gatewayB) + "/" + cid + ":latest", "oci:" + tmp.resolve("out") + ":pulled");
        String pulled = skopeo.inspectRaw("oci:" + tmp.resolve("out") + ":pulled");
        assertEquals(image.manifestDigest(), Digest.ofBytes(pulled.getBytes(StandardCharsets.UTF_8)));
        for (Digest layer : image.layerDigests()) {
            Path blob = tmp.resolve("out/blobs/sha256/" + layer.hex());
            assertTrue(Files.exists(blob), "layer " + layer + " pulled");
            assertEquals(layer, Digest.sha256(sha256(blob)));
        }
        // B now serves it by digest repository too, with the same CID
        assertEquals(cid, cidOf(gatewayB, cid + ":latest"));
    }

    @Test
    void skopeo_multiArchIndex_pullByCidFromPeer() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(tmp.resolve("layout")).seed(43)
                .layers(2, 1024 * 1024, true).buildMultiArch("v1");
        skopeo.copyAll(multi.skopeoRef(), "docker://" + host(gatewayA) + "/multi/app:v1");
        String cid = cidOf(gatewayA, "multi/app:v1");
        nodeB.connect(nodeA);
        skopeo.copyAll("docker://" + host(gatewayB) + "/" + cid + ":latest", "oci:" + tmp.resolve("out") + ":pulled");
        String pulled = skopeo.inspectRaw("oci:" + tmp.resolve("out") + ":pulled");
        assertEquals(multi.indexDigest(), Digest.ofBytes(pulled.getBytes(StandardCharsets.UTF_8)));
        for (OciLayoutBuilder.Image platform : multi.platforms()) {
            for (Digest layer : platform.layerDigests()) {
                assertTrue(Files.exists(tmp.resolve("out/blobs/sha256/" + layer.hex())), "layer " + layer);
            }
        }
    }

    @Test
    void samePush_toUnpeeredNodes_getsSameCid() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(47)
                .layers(2, 1024 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(gatewayA) + "/one:v1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(gatewayB) + "/two/name:other");
        assertEquals(cidOf(gatewayA, "one:v1"), cidOf(gatewayB, "two/name:other"));
    }

    /**
     * {@code ipfs pin add} of the image CID on Kubo pins every blob: {@code refs -r} lists each one, and
     * each blob's CID is the one plain {@code ipfs add --cid-version=1} gives its bytes (so anyone who
     * adds the same layer on their own node dedupes with the image).
     */
    @Test
    void pin_ofImageCid_coversEveryBlob_withPlainAddCids() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(53)
                .layers(3, 1024 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(gatewayA) + "/pinned:v1");
        String cid = cidOf(gatewayA, "pinned:v1");
        nodeA.rpc("pin/add?arg=" + cid + "&recursive=true");
        assertTrue(nodeA.rpc("pin/ls?arg=" + cid + "&type=recursive").contains(cid), "the image CID is pinned");
        String refs = nodeA.rpc("refs?arg=" + cid + "&recursive=true&unique=true");
        String disco = nodeA.rpc("cat?arg=" + cid + "/disco.json");
        Matcher m = Pattern.compile("\"digest\":\"([0-9a-f]{64})\",\"cid\":\"([^\"]+)\"").matcher(disco);
        List<Digest> listed = new ArrayList<>();
        while (m.find()) {
            Digest digest = Digest.parse("sha256:" + m.group(1));
            String blobCid = Cid.parse(m.group(2)).toString();
            assertTrue(refs.contains(blobCid), "blob " + digest + " (" + blobCid + ") is under the pinned image CID");
            Path blob = nodeA.rpcToFile("cat?arg=" + blobCid, tmp.resolve("blob-" + digest.hex()));
            assertEquals(digest, Digest.sha256(sha256(blob)), "the bytes under " + blobCid);
            byte[] bytes = Files.readAllBytes(blob);
            assertEquals(hashOf(nodeA.rpcWithFile("add?cid-version=1&only-hash=true&pin=false", bytes)), blobCid,
                    "CID of blob " + digest + " is what plain `ipfs add --cid-version=1` gives");
            listed.add(digest);
        }
        List<Digest> expected = new ArrayList<>(image.layerDigests());
        expected.add(image.config().digest());
        assertEquals(expected.size() + 1, listed.size(), "manifest, config and every layer in disco.json: " + disco);
        assertTrue(listed.containsAll(expected), "disco.json lists " + listed + ", expected " + expected);
    }

    /**
     * {@code ipfs dag export} of a published image, imported into a fresh Kubo that is peered with
     * nothing, is pullable by CID through a gateway on that node: the image CID is self-contained.
     */
    @Test
    void dagExport_importedIntoFreshKubo_isPullableByCid() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(59)
                .layers(2, 1024 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(gatewayA) + "/exported:v1");
        String cid = cidOf(gatewayA, "exported:v1");
        Path car = nodeA.rpcToFile("dag/export?arg=" + cid, tmp.resolve("image.car"));

        KuboNode fresh = KuboNode.start(tmp.resolve("c"));
        open.add(fresh);
        String imported = fresh.rpcWithFile("dag/import?pin-roots=true", Files.readAllBytes(car));
        assertTrue(imported.contains(cid), "the CAR's root is the image CID: " + imported);
        GatewayServer gatewayC = gateway(fresh, "c");
        skopeo.copy("docker://" + host(gatewayC) + "/" + cid + ":latest", "oci:" + tmp.resolve("out") + ":pulled");
        String pulled = skopeo.inspectRaw("oci:" + tmp.resolve("out") + ":pulled");
        assertEquals(image.manifestDigest(), Digest.ofBytes(pulled.getBytes(StandardCharsets.UTF_8)));
        for (Digest layer : image.layerDigests()) {
            assertEquals(layer, Digest.sha256(sha256(tmp.resolve("out/blobs/sha256/" + layer.hex()))),
                    "layer " + layer + " pulled from the imported CAR");
        }
    }

    /** disco's layout: CIDv0 blobs outside the directory, listed in disco.json. */
    @Test
    void discoLayoutImage_isPullableByCid() throws Exception {
        byte[] layer = "disco layer bytes".repeat(1000).getBytes(StandardCharsets.UTF_8);
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                .getBytes(StandardCharsets.UTF_8);
        Digest layerDigest = Digest.ofBytes(layer);
        Digest configDigest = Digest.ofBytes(config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" + layerDigest
                + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        Digest manifestDigest = Digest.ofBytes(manifest);
        String dir = "/disco-" + UUID.randomUUID();
        StringBuilder disco = new StringBuilder("{\"blobs\":[");
        boolean first = true;
        for (byte[] blob : List.of(manifest, config, layer)) {
            String v0 = hashOf(nodeA.rpcWithFile("add?cid-version=0&pin=false", blob));
            disco.append(first ? "" : ",").append("{\"digest\":\"").append(Digest.ofBytes(blob).hex())
                    .append("\",\"cid\":\"").append(v0).append("\"}");
            first = false;
        }
        disco.append("]}");
        write(dir + "/disco.json", disco.toString());
        write(dir + "/_manifests/tags/latest/current/link", manifestDigest.toString());
        write(dir + "/_manifests/tags/latest/index/sha256/" + manifestDigest.hex() + "/link", manifestDigest.toString());
        write(dir + "/_manifests/revisions/sha256/" + manifestDigest.hex() + "/link", manifestDigest.toString());
        write(dir + "/_layers/sha256/" + layerDigest.hex() + "/link", layerDigest.toString());
        write(dir + "/_layers/sha256/" + configDigest.hex() + "/link", configDigest.toString());
        String stat = nodeA.rpc("files/stat?arg=" + URLEncoder.encode(dir, StandardCharsets.UTF_8));
        String cid = Cid.parse(hashOf(stat)).toV1().toString();

        nodeB.connect(nodeA);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(gatewayB.uri().resolve(
                "/v2/" + cid + "/manifests/latest")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, got.statusCode(), new String(got.body(), StandardCharsets.UTF_8));
        assertArrayEquals(manifest, got.body());
        HttpResponse<byte[]> blob = http.send(HttpRequest.newBuilder(gatewayB.uri().resolve(
                "/v2/" + cid + "/blobs/" + layerDigest)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, blob.statusCode());
        assertArrayEquals(layer, blob.body());
    }

    private void write(String path, String content) throws IOException {
        nodeA.rpcWithFile("files/write?arg=" + URLEncoder.encode(path, StandardCharsets.UTF_8)
                + "&create=true&parents=true&truncate=true", content.getBytes(StandardCharsets.UTF_8));
    }

    private static String hashOf(String json) {
        Matcher m = Pattern.compile("\"Hash\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }

    private static byte[] sha256(Path file) throws IOException {
        java.security.MessageDigest md = Digest.newSha256();
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return md.digest();
    }

}
