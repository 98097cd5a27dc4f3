package io.mirrorball.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.OciLayoutBuilder.Blob;
import io.mirrorball.testing.OciLayoutBuilder.Image;
import io.mirrorball.testing.OciLayoutBuilder.MultiArch;
import io.mirrorball.testing.Skopeo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end with the real OCI client: skopeo copies images built on disk into a running mirrorball
 * (embedded Jetty, storage on a real IPFS node) and back out, and every digest must survive the trip.
 * Layers are gzip: skopeo compresses plain tar layers on the way to a registry, which would change
 * the digests on its side, not ours. The cases run twice: on a real IPFS node reached through the
 * Kubo RPC API (a Kubo daemon, {@link SkopeoEndToEndTest}), and on the embedded node of the default
 * configuration ({@link SkopeoEndToEndEmbeddedTest}).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
abstract class SkopeoEndToEndCases {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code kubo}: a Kubo daemon over its RPC API; {@code embedded}: the default built-in node. */
    private final String node;

    SkopeoEndToEndCases(String node) {
        this.node = node;
    }

    @TempDir
    Path tmp;

    private KuboNode kubo;
    private String mfsRoot;
    private GatewayServer gateway;
    private Skopeo skopeo;
    private String registry;

    @BeforeEach
    void startGateway() throws Exception {
        mfsRoot = "/e2e-" + UUID.randomUUID();
        Path uploads = Files.createDirectories(tmp.resolve("uploads"));
        boolean embedded = "embedded".equals(node);
        kubo = embedded ? null : KuboNode.shared();
        MirrorballConfig config = ConfigLoader.load(Optional.empty(), Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_NODE", embedded ? "embedded" : kubo.apiUrl().toString(),
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("embedded").toString(),
                "MIRRORBALL_STORAGE_IPFS_MFS_ROOT", mfsRoot,
                "MIRRORBALL_STORAGE_UPLOADS_PATH", uploads.toString()));
        gateway = GatewayServer.start(config);
        registry = gateway.uri().getHost() + ":" + gateway.uri().getPort();
        skopeo = Skopeo.in(tmp.resolve("skopeo"));
    }

    @AfterEach
    void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void copy_imageInAndOut_keepsManifestAndEveryLayerDigest() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(11)
                .layer(3 << 20, true).layer(1 << 20, true).layer(1_500_001, true).layer(0, true)
                .build("v1");

        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        Path outOci = tmp.resolve("out-oci");
        skopeo.copy("docker://" + registry + "/e2e/app:v1", "oci:" + outOci + ":v1");
        assertOciLayoutHolds(outOci, "v1", image);

        Path outDir = tmp.resolve("out-dir");
        skopeo.copy("docker://" + registry + "/e2e/app:v1", "dir:" + outDir);
        assertDirHolds(outDir, image);

        assertStoredInIpfs(image);
    }

    @Test
    void inspect_pushedImage_showsManifestDigestAndLayers() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(12)
                .layer(2 << 20, true).layer(1 << 20, true).layer(1 << 20, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        JsonNode inspect = JSON.readTree(skopeo.inspect("docker://" + registry + "/e2e/app:v1"));
        assertEquals(image.manifestDigest().toString(), inspect.path("Digest").asText());
        List<String> layers = new ArrayList<>();
        inspect.path("Layers").forEach(layer -> layers.add(layer.asText()));
        assertEquals(image.layerDigests().stream().map(Digest::toString).toList(), layers);
        assertEquals("amd64", inspect.path("Architecture").asText());

        String raw = skopeo.inspectRaw("docker://" + registry + "/e2e/app:v1");
        assertEquals(image.manifestDigest(), Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)),
                "inspect --raw must return the pushed manifest bytes unchanged");

        String byDigest = skopeo.inspectRaw("docker://" + registry + "/e2e/app@" + image.manifestDigest());
        assertEquals(raw, byDigest);

        JsonNode tags = JSON.readTree(skopeo.listTags("docker://" + registry + "/e2e/app"));
        assertEquals("v1", tags.path("Tags").path(0).asText());
    }

    @Test
    void inspect_missingTag_failsWithManifestUnknown() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(13).layer(64 << 10, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        Skopeo.Result result = skopeo.run(List.of("inspect", "--tls-verify=false", "--raw",
                "docker://" + registry + "/e2e/app:nope"));
        assertNotEquals(0, result.exitCode());
        assertTrue(result.stderr().toLowerCase().contains("manifest unknown"), result.stderr());
    }

    @Test
    void copy_pullByDigest_returnsSameImage() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(14)
                .layer(1 << 20, true).layer(2 << 20, true).layer(512 << 10, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        Path outDir = tmp.resolve("out-dir");
        skopeo.copy("docker://" + registry + "/e2e/app@" + image.manifestDigest(), "dir:" + outDir);
        assertDirHolds(outDir, image);
    }

    @Test
    void copyAll_multiArchIndex_keepsIndexAndPlatformDigests() throws IOException {
        MultiArch multi = OciLayoutBuilder.at(tmp.resolve("src")).seed(21)
                .layer(2 << 20, true).layer(1 << 20, true).layer(700_000, true).buildMultiArch("multi");

        skopeo.copyAll(multi.skopeoRef(), "docker://" + registry + "/e2e/multi:1.0");

        String raw = skopeo.inspectRaw("docker://" + registry + "/e2e/multi:1.0");
        assertEquals(multi.indexDigest(), Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)));
        JsonNode index = JSON.readTree(raw);
        assertEquals(2, index.path("manifests").size());

        Path outOci = tmp.resolve("out-oci");
        skopeo.copyAll("docker://" + registry + "/e2e/multi:1.0", "oci:" + outOci + ":1.0");
        assertEquals(multi.indexDigest(), taggedDigest(outOci, "1.0"));
        for (Image platform : multi.platforms()) {
            assertBlobMatches(outOci.resolve("blobs/sha256").resolve(platform.manifestDigest().hex()),
                    platform.manifestDigest());
            assertManifestLayers(outOci.resolve("blobs/sha256"), platform);
        }

        // one platform at a time, as a client on that platform pulls it
        for (Image platform : multi.platforms()) {
            String arch = platform.platform().split("/")[1];
            Path outDir = tmp.resolve("out-" + arch);
            skopeo.copy("docker://" + registry + "/e2e/multi:1.0", "dir:" + outDir, "--override-arch", arch);
            assertDirHolds(outDir, platform);
        }
    }

    @Test
    void copy_betweenRepositories_mountsBlobsAndKeepsDigests() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(31)
                .layer(2 << 20, true).layer(2 << 20, true).layer(1 << 20, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        Skopeo.Result copied = skopeo.run(List.of("--debug", "copy", "--src-tls-verify=false",
                "--dest-tls-verify=false", "docker://" + registry + "/e2e/app:v1",
                "docker://" + registry + "/e2e/copy:v2"));
        assertEquals(0, copied.exitCode(), copied.stderr());
        assertTrue(copied.stderr().contains("mount=" + image.layerDigests().get(0).toString().replace(":", "%3A"))
                        || copied.stderr().contains("mount=" + image.layerDigests().get(0)),
                "skopeo should have tried a cross-repository mount:\n" + tail(copied.stderr()));

        JsonNode inspect = JSON.readTree(skopeo.inspect("docker://" + registry + "/e2e/copy:v2"));
        assertEquals(image.manifestDigest().toString(), inspect.path("Digest").asText());
        Path outDir = tmp.resolve("out-dir");
        skopeo.copy("docker://" + registry + "/e2e/copy:v2", "dir:" + outDir);
        assertDirHolds(outDir, image);
    }

    @Test
    void copy_namespacedName_roundTrips() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(41)
                .layer(1 << 20, true).layer(3 << 20, true).layer(256 << 10, true).build("2024.1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/org/team/app:2024.1");

        Path outOci = tmp.resolve("out-oci");
        skopeo.copy("docker://" + registry + "/org/team/app:2024.1", "oci:" + outOci + ":2024.1");
        assertOciLayoutHolds(outOci, "2024.1", image);

        JsonNode tags = JSON.readTree(skopeo.listTags("docker://" + registry + "/org/team/app"));
        assertEquals("2024.1", tags.path("Tags").path(0).asText());
    }

    @Test
    void copy_dockerSchema2Format_roundTripsConvertedManifest() throws IOException {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(51)
                .layer(1 << 20, true).layer(2 << 20, true).layer(300_000, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/docker:v1", "--format", "v2s2");

        String raw = skopeo.inspectRaw("docker://" + registry + "/e2e/docker:v1");
        JsonNode manifest = JSON.readTree(raw);
        assertEquals("application/vnd.docker.distribution.manifest.v2+json", manifest.path("mediaType").asText());
        List<String> layers = new ArrayList<>();
        manifest.path("layers").forEach(layer -> layers.add(layer.path("digest").asText()));
        assertEquals(image.layerDigests().stream().map(Digest::toString).toList(), layers,
                "gzip layers keep their digests when only the manifest format changes");

        Path outDir = tmp.resolve("out-dir");
        skopeo.copy("docker://" + registry + "/e2e/docker:v1", "dir:" + outDir);
        assertEquals(Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)), sha256(outDir.resolve("manifest.json")));
        for (Blob layer : image.layers()) {
            assertBlobMatches(outDir.resolve(layer.digest().hex()), layer.digest());
        }
    }

    @Test
    void copy_pushedImage_isPullableByItsCidAndDigestNames() throws Exception {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(61)
                .layer(1 << 20, true).layer(2 << 20, true).layer(100_000, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");

        String cid = publishedCid("e2e/app", "v1", "application/vnd.oci.image.manifest.v1+json");

        Path byCid = tmp.resolve("by-cid");
        skopeo.copy("docker://" + registry + "/" + cid + ":latest", "dir:" + byCid);
        assertDirHolds(byCid, image);

        JsonNode tags = JSON.readTree(skopeo.listTags("docker://" + registry + "/" + image.manifestDigest().hex()));
        List<String> names = new ArrayList<>();
        tags.path("Tags").forEach(tag -> names.add(tag.asText()));
        assertTrue(names.contains(cid), "tags/list of the digest repository reveals the CID: " + names);
        Path byDigestName = tmp.resolve("by-digest-name");
        skopeo.copy("docker://" + registry + "/" + image.manifestDigest().hex() + ":" + cid, "dir:" + byDigestName);
        assertDirHolds(byDigestName, image);

        Skopeo.Result refused = skopeo.run(List.of("copy", "--dest-tls-verify=false", image.skopeoRef(),
                "docker://" + registry + "/" + cid + ":other"));
        assertNotEquals(0, refused.exitCode(), "a content-addressed repository is read-only");
    }

    @Test
    void copyAll_multiArchIndex_isPullableByItsCid() throws Exception {
        MultiArch multi = OciLayoutBuilder.at(tmp.resolve("src")).seed(62)
                .layer(1 << 20, true).layer(300_000, true).layer(50_000, true).buildMultiArch("multi");
        skopeo.copyAll(multi.skopeoRef(), "docker://" + registry + "/org/team/multi:1.0");

        String cid = publishedCid("org/team/multi", "1.0", "application/vnd.oci.image.index.v1+json");
        Path outOci = tmp.resolve("out-oci");
        skopeo.copyAll("docker://" + registry + "/" + cid + ":latest", "oci:" + outOci + ":x");
        assertEquals(multi.indexDigest(), taggedDigest(outOci, "x"));
        for (Image platform : multi.platforms()) {
            assertManifestLayers(outOci.resolve("blobs/sha256"), platform);
        }
    }

    @Test
    void copy_sameImageToAnotherGateway_getsTheSameCid() throws Exception {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(63)
                .layer(700_000, true).layer(1 << 20, true).layer(10_000, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/e2e/app:v1");
        String cid = publishedCid("e2e/app", "v1", "application/vnd.oci.image.manifest.v1+json");

        // another gateway, on a node of the other kind, under another name and tag
        MirrorballConfig otherConfig = ConfigLoader.load(Optional.empty(), Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_NODE", "embedded".equals(node) ? KuboNode.shared().apiUrl().toString() : "embedded",
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("other-embedded").toString(),
                "MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/e2e-other-" + UUID.randomUUID(),
                "MIRRORBALL_STORAGE_UPLOADS_PATH", Files.createDirectories(tmp.resolve("other-uploads")).toString()));
        try (GatewayServer other = GatewayServer.start(otherConfig)) {
            String otherRegistry = other.uri().getHost() + ":" + other.uri().getPort();
            skopeo.copy(image.skopeoRef(), "docker://" + otherRegistry + "/another/name:v2");
            assertEquals(cid, publishedCid(other.uri(), "another/name", "v2",
                    "application/vnd.oci.image.manifest.v1+json"));
        }
    }

    @Test
    void copy_nameOnlyUpstream_fallsThroughAndIsServedFromIpfsOnceUpstreamIsDown() throws Exception {
        Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(71)
                .layer(1 << 20, true).layer(500_000, true).layer(20_000, true).build("v1");
        DockerRegistry upstream = DockerRegistry.start(tmp.resolve("upstream"));
        try {
            skopeo.copy(image.skopeoRef(), "docker://" + upstream.hostPort() + "/team/up:v1");
            MirrorballConfig config = ConfigLoader.load(Optional.empty(), Map.of(
                    "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                    "MIRRORBALL_STORAGE_IPFS_NODE", "embedded".equals(node) ? "embedded" : kubo.apiUrl().toString(),
                    "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("proxy-embedded").toString(),
                    "MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/e2e-proxy-" + UUID.randomUUID(),
                    "MIRRORBALL_STORAGE_UPLOADS_PATH", Files.createDirectories(tmp.resolve("proxy-uploads")).toString(),
                    "MIRRORBALL_UPSTREAM_URL", upstream.uri().toString()));
            try (GatewayServer proxy = GatewayServer.start(config)) {
                String proxyRegistry = proxy.uri().getHost() + ":" + proxy.uri().getPort();
                Path first = tmp.resolve("through-upstream");
                skopeo.copy("docker://" + proxyRegistry + "/team/up:v1", "dir:" + first);
                assertDirHolds(first, image);

                upstream.close();
                Path second = tmp.resolve("upstream-down");
                skopeo.copy("docker://" + proxyRegistry + "/team/up@" + image.manifestDigest(), "dir:" + second);
                assertDirHolds(second, image);
            }
        } finally {
            upstream.close();
        }
    }

    // ---- assertions ----

    /** The oci: directory tags {@code tag} with the image's manifest, and holds every blob intact. */
    private static void assertOciLayoutHolds(Path layout, String tag, Image image) throws IOException {
        assertEquals(image.manifestDigest(), taggedDigest(layout, tag));
        Path blobs = layout.resolve("blobs/sha256");
        assertBlobMatches(blobs.resolve(image.manifestDigest().hex()), image.manifestDigest());
        assertManifestLayers(blobs, image);
    }

    /** The dir: directory holds the image's manifest bytes and every blob intact. */
    private static void assertDirHolds(Path dir, Image image) throws IOException {
        assertEquals(image.manifestDigest(), sha256(dir.resolve("manifest.json")),
                "manifest.json of " + dir + " must be the pushed manifest");
        assertManifestLayers(dir, image);
    }

    private static void assertManifestLayers(Path blobDir, Image image) throws IOException {
        JsonNode manifest = JSON.readTree(blobDir.resolve(image.manifestDigest().hex()).toFile().exists()
                ? blobDir.resolve(image.manifestDigest().hex()).toFile()
                : blobDir.resolve("manifest.json").toFile());
        assertEquals(image.config().digest().toString(), manifest.path("config").path("digest").asText());
        List<String> layers = new ArrayList<>();
        manifest.path("layers").forEach(layer -> layers.add(layer.path("digest").asText()));
        assertEquals(image.layerDigests().stream().map(Digest::toString).toList(), layers);
        assertBlobMatches(blobDir.resolve(image.config().digest().hex()), image.config().digest());
        for (Blob layer : image.layers()) {
            Path file = blobDir.resolve(layer.digest().hex());
            assertEquals(layer.size(), Files.size(file), "size of layer " + layer.digest());
            assertBlobMatches(file, layer.digest());
        }
    }

    private static Digest taggedDigest(Path layout, String tag) throws IOException {
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        for (JsonNode entry : index.path("manifests")) {
            if (tag.equals(entry.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                return Digest.parse(entry.path("digest").asText());
            }
        }
        throw new AssertionError("no tag " + tag + " in " + layout.resolve("index.json"));
    }

    private static void assertBlobMatches(Path file, Digest expected) throws IOException {
        assertTrue(Files.isRegularFile(file), "missing blob " + file);
        assertEquals(expected, sha256(file), "content of " + file);
    }

    private static Digest sha256(Path file) throws IOException {
        MessageDigest sha = Digest.newSha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return Digest.sha256(sha.digest());
    }

    /** Every layer is a file in MFS at blobs/sha256/xx/hex/data with the layer's size. */
    private void assertStoredInIpfs(Image image) throws IOException {
        if (kubo == null) {
            return; // the embedded node has no RPC to ask
        }
        for (Blob layer : image.layers()) {
            String hex = layer.digest().hex();
            String path = mfsRoot + "/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data";
            JsonNode stat = JSON.readTree(kubo.rpc("files/stat?arg=" + path));
            assertEquals(layer.size(), stat.path("Size").asLong(), "size of " + path + " in MFS");
            assertTrue(stat.path("Hash").asText().startsWith("baf"), "CIDv1 expected for " + path + ": " + stat);
        }
    }

    /** The CID of {@code X-Ipfs-Path: /ipfs/<cid>} on HEAD of a manifest. */
    private String publishedCid(String name, String reference, String accept) throws Exception {
        return publishedCid(gateway.uri(), name, reference, accept);
    }

    private static String publishedCid(URI base, String name, String reference, String accept) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<Void> head = client.send(HttpRequest.newBuilder(
                        base.resolve("/v2/" + name + "/manifests/" + reference))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", accept).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode(), "HEAD " + name + ":" + reference);
        String path = head.headers().firstValue("X-Ipfs-Path").orElseThrow(
                () -> new AssertionError("no X-Ipfs-Path on HEAD " + name + ":" + reference + ": " + head.headers()));
        assertTrue(path.startsWith("/ipfs/baf"), path);
        return path.substring("/ipfs/".length());
    }

    private static String tail(String text) {
        return text.length() > 3000 ? "..." + text.substring(text.length() - 3000) : text;
    }
}
