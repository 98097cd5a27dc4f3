package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.store.GarbageCollector;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ipdr view of a published image (docs/formats.md) on real Kubo: ipdr's names for the very blocks of
 * the image, announced in {@code X-Ipdr-Path}; another gateway pulls it through ipdr's reader, every blob
 * checked; an index's {@code latest} is its linux/amd64 image; a delete takes the view down and it is not
 * cloned back; a gc removes a view whose image is no longer published.
 */
final class IpdrViewTest {
    @TempDir
    Path tmp;
    private TestGateway gateway;
    private IpfsNode node;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp.resolve("a"));
        node = gateway.gateway().node();
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private Skopeo skopeo() {
        return Skopeo.in(tmp.resolve("skopeo"));
    }

    private void push(String src, String ref, boolean all) {
        String dst = "docker://" + gateway.uri().getAuthority() + "/" + ref;
        if (all) {
            skopeo().copyAll(src, dst);
        } else {
            skopeo().copy(src, dst);
        }
    }

    private Cid ipdrCid(Digest manifest) throws Exception {
        return gateway.gateway().store().publisher().ipdrCid(manifest).orElseThrow(
                () -> new AssertionError("no ipdr view of " + manifest));
    }

    /** The CID of {@code path} inside {@code /ipfs/<cid>}, asserting it is there. */
    private Cid entry(Cid view, String path) throws Exception {
        return node.filesStat("/ipfs/" + view + "/" + path).orElseThrow(
                () -> new AssertionError(path + " missing in the ipdr view " + view)).cid();
    }

    private Cid blobCid(Digest digest) throws Exception {
        return gateway.gateway().store().blobs().stat(digest).orElseThrow().cid();
    }

    private HttpResponse<String> get(TestGateway on, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(on.uri() + path)).timeout(Duration.ofSeconds(60))
                .header("Accept", MediaTypes.OCI_MANIFEST + ", " + MediaTypes.OCI_INDEX).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] blob(OciLayoutBuilder.Image image, Digest digest) throws Exception {
        return Files.readAllBytes(image.dir().resolve("blobs/sha256/" + digest.hex()));
    }

    @Test
    void push_ipdrViewLinksTheSameBlocks_andAnotherGatewayPullsIt() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("image")).seed(16).layer(300_000, true)
                .layer(4_000, true).build("v1");
        push(image.skopeoRef(), "ipdr/app:v1", false);
        Digest digest = image.manifestDigest();
        Cid view = ipdrCid(digest);

        // the manifest PUT names it
        byte[] manifest = blob(image, digest);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(gateway.uri() + "/v2/ipdr/app/manifests/v1"))
                .header("Content-Type", MediaTypes.OCI_MANIFEST).PUT(HttpRequest.BodyPublishers.ofByteArray(manifest))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        assertEquals("/ipfs/" + view, put.headers().firstValue("X-Ipdr-Path").orElse(null));
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(URI.create(gateway.uri() + "/v2/ipdr/app/manifests/v1"))
                .header("Accept", MediaTypes.OCI_MANIFEST).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("/ipfs/" + view, head.headers().firstValue("X-Ipdr-Path").orElse(null), "and every GET or HEAD");
        // ipdr's names, each the very CID the store holds: no byte stored twice
        assertEquals(blobCid(image.config().digest()), entry(view, "blobs/" + image.config().digest()));
        for (Digest layer : image.layerDigests()) {
            assertEquals(blobCid(layer), entry(view, "blobs/" + layer));
        }
        assertEquals(blobCid(digest), entry(view, "manifests/latest"));
        assertEquals(blobCid(digest), entry(view, "manifests/" + digest));
        assertTrue(node.filesStat("/ipfs/" + view + "/disco.json").isEmpty(), "only ipdr's layout");
        String published = put.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
        assertTrue(node.filesStat("/ipfs/" + published + "/blobs/" + digest).isEmpty(),
                "the published image keeps names disco accepts (no colon)");

        // another gateway on the same node reads it as ipdr's image, checking every blob
        try (TestGateway other = TestGateway.start(KuboNode.shared().apiUrl().toString(), "/t-" + UUID.randomUUID(),
                tmp.resolve("b"), Map.of())) {
            for (String ref : new String[] {view + ":latest", view + "@" + digest}) {
                Path out = tmp.resolve("out-" + UUID.randomUUID());
                skopeo().copy("docker://" + other.uri().getAuthority() + "/" + ref, "dir:" + out);
                assertArrayEquals(manifest, Files.readAllBytes(out.resolve("manifest.json")), ref);
                for (Digest layer : image.layerDigests()) {
                    assertArrayEquals(blob(image, layer), Files.readAllBytes(out.resolve(layer.hex())), ref);
                }
            }
            assertEquals(published, other.gateway().store().publisher().publishedCid(digest).orElseThrow().toString(),
                    "the clone publishes the same image CID");
        }
    }

    @Test
    void multiArchPush_ipdrLatestIsTheLinuxAmd64Image() throws Exception {
        OciLayoutBuilder.MultiArch image = OciLayoutBuilder.at(tmp.resolve("multi")).seed(17).layer(2_000, true)
                .buildMultiArch("v1");
        push(image.skopeoRef(), "ipdr/multi:v1", true);
        Cid view = ipdrCid(image.indexDigest());

        OciLayoutBuilder.Image amd64 = image.platforms().stream().filter(p -> p.platform().endsWith("amd64"))
                .findFirst().orElseThrow();
        assertEquals(blobCid(amd64.manifestDigest()), entry(view, "manifests/latest"));
        assertEquals(blobCid(image.indexDigest()), entry(view, "manifests/" + image.indexDigest()));
        for (OciLayoutBuilder.Image platform : image.platforms()) {
            assertEquals(blobCid(platform.manifestDigest()), entry(view, "manifests/" + platform.manifestDigest()));
            assertEquals(blobCid(platform.config().digest()), entry(view, "blobs/" + platform.config().digest()));
        }
    }

    /** A one-layer image pushed with skopeo to {@code ref}; its manifest digest. */
    private Digest pushed(long seed, String ref) throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("image-" + seed)).seed(seed)
                .layer(3_000, true).build("v1");
        push(image.skopeoRef(), ref, false);
        return image.manifestDigest();
    }

    @Test
    void delete_takesTheViewDown_andItIsNotClonedBack() throws Exception {
        Digest digest = pushed(18, "ipdr/del:v1");
        Cid view = ipdrCid(digest);
        assertEquals(200, get(gateway, "/v2/" + view + "/manifests/latest").statusCode(),
                "the view pulls here too, before the delete");

        HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create(gateway.uri()
                + "/v2/ipdr/del/manifests/" + digest)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, delete.statusCode(), delete.body());

        assertTrue(gateway.gateway().store().publisher().ipdrCid(digest).isEmpty(), "the view is gone");
        HttpResponse<String> after = get(gateway, "/v2/" + view + "/manifests/latest");
        assertEquals(404, after.statusCode(), after.body());
        assertTrue(after.body().contains("NAME_UNKNOWN"), after.body());
    }

    @Test
    void gc_removesAViewWhoseImageIsNotPublished() throws Exception {
        Digest digest = pushed(19, "ipdr/gc:v1");
        ipdrCid(digest);
        GarbageCollector.Options options = new GarbageCollector.Options(false, false, Set.of(), Duration.ZERO,
                Duration.ZERO);

        GarbageCollector.Result kept = gateway.gateway().store().collector().run(options);
        assertTrue(gateway.gateway().store().publisher().ipdrCid(digest).isPresent(), "a published image keeps its view");
        assertTrue(kept.removed().stream().noneMatch(r -> r.kind().equals("ipdr-view")), kept.removed().toString());

        // as a crash between placing the view and the digest repository leaves it
        node.filesRm(gateway.mfsRoot() + "/repositories/" + digest.hex());
        GarbageCollector.Result result = gateway.gateway().store().collector().run(options);

        assertTrue(result.removed().contains(new GarbageCollector.Removal("ipdr-view", digest.hex(), 0)),
                result.removed().toString());
        assertTrue(gateway.gateway().store().publisher().ipdrCid(digest).isEmpty(), "the orphaned view is gone");
    }
}
