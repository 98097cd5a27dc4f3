package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.Disco;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with the real disco registry (tests/kit/disco), both on real Kubo, with skopeo as
 * the client. One Kubo node A runs disco (whose MFS root is always {@code /docker/registry/v2}),
 * a mirrorball with a root of its own, and a mirrorball sharing disco's root; a second Kubo node B,
 * peered with A, runs a mirrorball of its own, so what it pulls from A travels by bitswap.
 */
final class DiscoInteropTest {
    private static final String DISCO_ROOT = "/docker/registry/v2";
    private static final AtomicInteger SEEDS = new AtomicInteger(7100);

    @TempDir
    static Path tmp;
    private static final List<AutoCloseable> OPEN = new ArrayList<>();
    private static KuboNode nodeA;
    private static KuboNode nodeB;
    /** disco as its README configures it: MFS only. */
    private static Disco disco;
    /** disco with a filesystem cache, the only configuration in which it clones CIDs it does not have. */
    private static Disco cloningDisco;
    /** mirrorball on A with an MFS root of its own: it sees disco's images only through IPFS. */
    private static TestGateway ownRootA;
    /** mirrorball on A with disco's MFS root. */
    private static TestGateway sharedRootA;
    /** mirrorball on B. */
    private static TestGateway peerB;
    private static Skopeo skopeo;

    @BeforeAll
    static void start() throws Exception {
        Disco.binary(); // a missing disco or skopeo fails the class before any node starts
        Skopeo.requireBinary();
        nodeA = open(KuboNode.start(tmp.resolve("kubo-a")));
        nodeB = open(KuboNode.start(tmp.resolve("kubo-b")));
        nodeB.connect(nodeA);
        disco = open(Disco.start(nodeA, tmp.resolve("disco")));
        cloningDisco = open(Disco.startWithCache(nodeA, tmp.resolve("disco-cache")));
        Map<String, String> clone = Map.of("MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT", "20s");
        ownRootA = open(TestGateway.start(nodeA.apiUrl().toString(), "/mirrorball", tmp.resolve("mb-own"), clone));
        sharedRootA = open(TestGateway.start(nodeA.apiUrl().toString(), DISCO_ROOT, tmp.resolve("mb-shared"), clone));
        peerB = open(TestGateway.start(nodeB.apiUrl().toString(), DISCO_ROOT, tmp.resolve("mb-b"), clone));
        skopeo = Skopeo.in(tmp.resolve("skopeo"));
    }

    private static <T extends AutoCloseable> T open(T resource) {
        OPEN.add(resource);
        return resource;
    }

    @AfterAll
    static void stop() throws Exception {
        for (int i = OPEN.size() - 1; i >= 0; i--) {
            OPEN.get(i).close();
        }
    }

    @Test
    void discoPush_pullByCid_throughMirrorballOnSameNode() throws Exception {
        OciLayoutBuilder.Image image = image("a1");
        String cid = pushToDisco(image, "interop-a1");
        assertPulls(image, host(ownRootA) + "/" + cid + ":latest", "a1");
    }

    @Test
    void discoPush_pullByCid_throughMirrorballOnPeer() throws Exception {
        OciLayoutBuilder.Image image = image("a2");
        String cid = pushToDisco(image, "interop-a2");
        assertThrows(IllegalStateException.class, () -> nodeB.rpc("block/stat?arg=" + cid + "&offline=true"),
                "B has nothing of the image before the pull");
        assertPulls(image, host(peerB) + "/" + cid + ":latest", "a2");
    }

    @Test
    void mirrorballPush_pullByCid_throughDisco() throws Exception {
        OciLayoutBuilder.Image image = image("b1");
        skopeo.copy(image.skopeoRef(), "docker://" + host(ownRootA) + "/org/interop-b1:v1");
        String cid = cidOf(ownRootA, "org/interop-b1", "v1");
        assertPulls(image, cloningDisco.hostPort() + "/" + cid + ":latest", "b1");
    }

    @Test
    void mirrorballPushMultiArch_pullByCid_throughDisco() throws Exception {
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(tmp.resolve("layout-b2")).seed(SEEDS.incrementAndGet())
                .layers(2, 1024 * 1024, true).buildMultiArch("v1");
        skopeo.copyAll(multi.skopeoRef(), "docker://" + host(ownRootA) + "/org/interop-b2:v1");
        String cid = cidOf(ownRootA, "org/interop-b2", "v1");
        Path out = tmp.resolve("pulled-b2");
        skopeo.copyAll("docker://" + cloningDisco.hostPort() + "/" + cid + ":latest", "oci:" + out + ":pulled");
        String index = skopeo.inspectRaw("oci:" + out + ":pulled");
        assertEquals(multi.indexDigest(), Digest.ofBytes(index.getBytes(StandardCharsets.UTF_8)));
        for (OciLayoutBuilder.Image platform : multi.platforms()) {
            assertBlobs(platform, out, "disco " + cid);
        }
    }

    /**
     * disco's and mirrorball's images side by side in one MFS root, some sharing layers, each pushed
     * by its own registry; then every image is pulled from both registries by CID and by its digest
     * repository (tags {@code latest} and {@code <cid>}), and mirrorball's tagged name and disco's
     * unpublished one (a tag other than latest) through the other.
     */
    @Test
    void sharedRoot_everyImageOfEach_pullableFromBoth() throws Exception {
        // D1 by disco; M1 by mirrorball with D1's first layer; D2 by disco with M1's second layer
        int seed = SEEDS.addAndGet(10);
        OciLayoutBuilder.Image d1 = OciLayoutBuilder.at(tmp.resolve("layout-c-d1")).seed(seed).layer(1 << 20, true)
                .seed(seed + 1).layer(1 << 20, true).build("v1");
        OciLayoutBuilder.Image m1 = OciLayoutBuilder.at(tmp.resolve("layout-c-m1")).seed(seed).layer(1 << 20, true)
                .seed(seed + 2).layer(1 << 20, true).build("v1");
        OciLayoutBuilder.Image d2 = OciLayoutBuilder.at(tmp.resolve("layout-c-d2")).seed(seed + 3).layer(1 << 20, true)
                .seed(seed + 2).layer(1 << 20, true).build("v1");
        OciLayoutBuilder.Image m2 = image("c-m2");
        OciLayoutBuilder.Image d3 = image("c-d3");
        assertEquals(d1.layerDigests().get(0), m1.layerDigests().get(0));
        assertEquals(m1.layerDigests().get(1), d2.layerDigests().get(1));

        String d1Cid = pushToDisco(d1, "shared-d1");
        skopeo.copy(m1.skopeoRef(), "docker://" + host(sharedRootA) + "/org/shared-m1:v1");
        String m1Cid = cidOf(sharedRootA, "org/shared-m1", "v1");
        String d2Cid = pushToDisco(d2, "shared-d2");
        skopeo.copy(m2.skopeoRef(), "docker://" + host(sharedRootA) + "/shared-m2:v2");
        String m2Cid = cidOf(sharedRootA, "shared-m2", "v2");
        skopeo.copy(d3.skopeoRef(), "docker://" + disco.hostPort() + "/shared-d3:v3"); // not latest: not published

        for (String registry : List.of(disco.hostPort(), host(sharedRootA))) {
            for (var image : Map.of(d1, d1Cid, m1, m1Cid, d2, d2Cid, m2, m2Cid).entrySet()) {
                String hex = image.getKey().manifestDigest().hex();
                for (String ref : List.of(image.getValue() + ":latest", hex + ":latest", hex + ":" + image.getValue())) {
                    assertPulls(image.getKey(), registry + "/" + ref, "c");
                }
            }
            assertPulls(m1, registry + "/org/shared-m1:v1", "c");
            assertPulls(m2, registry + "/shared-m2:v2", "c");
            assertPulls(d3, registry + "/shared-d3:v3", "c");
        }
        // the digest repositories list each image's own CID, for both
        for (var image : Map.of(d1, d1Cid, m1, m1Cid, d2, d2Cid, m2, m2Cid).entrySet()) {
            assertEquals(image.getValue(), disco.publishedCid(image.getKey().manifestDigest().hex()).orElseThrow());
        }
    }

    /**
     * The same image pushed to disco, then to mirrorball, in one root: each publishes its own CID
     * (disco's names blobs in its own DAGs, mirrorball's in {@code ipfs add --cid-version=1}'s), and
     * both CIDs stay pullable from both. The digest repository is the copy the last push made.
     */
    @Test
    void sharedRoot_sameImagePushedToBoth_bothCidsPullableFromBoth() throws Exception {
        OciLayoutBuilder.Image image = image("c-same");
        String discoCid = pushToDisco(image, "same-d");
        skopeo.copy(image.skopeoRef(), "docker://" + host(sharedRootA) + "/same-m:v1");
        String mirrorballCid = cidOf(sharedRootA, "same-m", "v1");
        assertTrue(!discoCid.equals(mirrorballCid), "disco's and mirrorball's CIDs of one image differ");
        for (String registry : List.of(disco.hostPort(), host(sharedRootA))) {
            for (String cid : List.of(discoCid, mirrorballCid)) {
                assertPulls(image, registry + "/" + cid + ":latest", "c-same");
            }
            assertPulls(image, registry + "/" + image.manifestDigest().hex() + ":latest", "c-same");
            assertPulls(image, registry + "/same-m:v1", "c-same");
        }
        assertEquals(mirrorballCid, disco.publishedCid(image.manifestDigest().hex()).orElseThrow(),
                "the digest repository is mirrorball's copy, pushed last");
    }

    /**
     * Regression: the same image pushed to mirrorball, then to disco, in one root. disco replaces the
     * digest repository with its copy, whose CID tag is disco's image (blobs not linked inside, so
     * pinning it does not pin them); a mirrorball with cold caches reported that CID as the image's
     * X-Ipfs-Path. It reports its own again; both CIDs stay pullable from both.
     */
    @Test
    void sharedRoot_imageRepublishedByDisco_mirrorballStillReportsItsOwnCid() throws Exception {
        OciLayoutBuilder.Image image = image("c-again");
        skopeo.copy(image.skopeoRef(), "docker://" + host(sharedRootA) + "/again-m:v1");
        String mirrorballCid = cidOf(sharedRootA, "again-m", "v1");
        String discoCid = pushToDisco(image, "again-d");
        assertTrue(!discoCid.equals(mirrorballCid), "disco published a CID of its own: " + discoCid);
        try (TestGateway cold = TestGateway.start(nodeA.apiUrl().toString(), DISCO_ROOT, tmp.resolve("mb-cold"),
                Map.of())) {
            assertEquals(mirrorballCid, cidOf(cold, "again-m", "v1"));
            for (String registry : List.of(disco.hostPort(), host(cold))) {
                for (String cid : List.of(discoCid, mirrorballCid)) {
                    assertPulls(image, registry + "/" + cid + ":latest", "c-again");
                }
                assertPulls(image, registry + "/again-m:v1", "c-again");
            }
        }
    }

    /**
     * Regression: mirrorball's push of a layer that disco had stored replaced disco's entry (another
     * DAG of the same bytes, the one disco's disco.json lists) and dropped it from MFS. disco keeps
     * its blobs only through those entries, so after the node's garbage collection a peer could no
     * longer clone disco's image. mirrorball now keeps the former entry beside the new one.
     */
    @Test
    void sharedRoot_discoImage_whoseLayerMirrorballPushedAgain_isClonableByPeerAfterGc() throws Exception {
        int seed = SEEDS.addAndGet(10);
        OciLayoutBuilder.Image fromDisco = OciLayoutBuilder.at(tmp.resolve("layout-gc-d")).seed(seed)
                .layer(1 << 20, true).seed(seed + 1).layer(1 << 20, true).build("v1");
        OciLayoutBuilder.Image fromMirrorball = OciLayoutBuilder.at(tmp.resolve("layout-gc-m")).seed(seed)
                .layer(1 << 20, true).seed(seed + 2).layer(1 << 20, true).build("v1");
        String cid = pushToDisco(fromDisco, "gc-d");
        skopeo.copy(fromMirrorball.skopeoRef(), "docker://" + host(sharedRootA) + "/gc-m:v1");

        nodeA.rpc("repo/gc");
        assertPulls(fromDisco, host(peerB) + "/" + cid + ":latest", "gc");
        assertPulls(fromMirrorball, host(peerB) + "/" + cidOf(sharedRootA, "gc-m", "v1") + ":latest", "gc");
    }

    // ---- helpers

    private static OciLayoutBuilder.Image image(String name) {
        return OciLayoutBuilder.at(tmp.resolve("layout-" + name)).seed(SEEDS.incrementAndGet())
                .layers(2, 2 * 1024 * 1024, true).build("v1");
    }

    /** Pushes to disco as {@code <repo>:latest} (the only tag disco publishes) and returns the CID it published. */
    private static String pushToDisco(OciLayoutBuilder.Image image, String repo) {
        skopeo.copy(image.skopeoRef(), "docker://" + disco.hostPort() + "/" + repo + ":latest");
        return disco.publishedCid(image.manifestDigest().hex())
                .orElseThrow(() -> new AssertionError("disco published no CID for " + image.manifestDigest()
                        + "; log " + disco.log()));
    }

    private static String host(TestGateway gateway) {
        return gateway.client().base().getAuthority();
    }

    /** The image CID a mirrorball reports for a manifest (X-Ipfs-Path). */
    private static String cidOf(TestGateway gateway, String repo, String reference) {
        var head = gateway.client().head("/v2/" + repo + "/manifests/" + reference,
                "Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json");
        assertEquals(200, head.statusCode());
        return RegistryClient.header(head, "X-Ipfs-Path").substring("/ipfs/".length());
    }

    /** Pulls {@code ref} (host/name:tag) with skopeo; the manifest and every blob must be the image's, byte for byte. */
    private static void assertPulls(OciLayoutBuilder.Image image, String ref, String name) throws IOException {
        Path out = tmp.resolve("pulled-" + name + "-" + SEEDS.incrementAndGet());
        skopeo.copy("docker://" + ref, "oci:" + out + ":pulled");
        String manifest = skopeo.inspectRaw("oci:" + out + ":pulled");
        assertEquals(image.manifestDigest(), Digest.ofBytes(manifest.getBytes(StandardCharsets.UTF_8)),
                "manifest of " + ref);
        assertBlobs(image, out, ref);
    }

    /** The config and every layer of {@code image} are in the OCI layout {@code out}, with their digests' bytes. */
    private static void assertBlobs(OciLayoutBuilder.Image image, Path out, String ref) throws IOException {
        List<Digest> blobs = new ArrayList<>(image.layerDigests());
        blobs.add(image.config().digest());
        for (Digest blob : blobs) {
            Path file = out.resolve("blobs/sha256/" + blob.hex());
            assertTrue(Files.exists(file), ref + ": blob " + blob + " pulled");
            assertEquals(blob, sha256(file), ref + ": bytes of " + blob);
        }
    }

    private static Digest sha256(Path file) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return Digest.sha256(md.digest());
    }
}
