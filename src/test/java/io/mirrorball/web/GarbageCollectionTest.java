package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.expect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deletion and the online administrative operations against a real node (Kubo, or the embedded node
 * with -Dmirrorball.apitest.embedded=true): after a DELETE nothing of the image is pullable (by name,
 * digest repository or CID); an online gc does not lose the blobs of a push in progress; a corrupt
 * pulled-through blob is fetched again from a real docker-registry; a corrupt pushed blob is removed
 * from serving until it is pushed again.
 */
final class GarbageCollectionTest {
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

    private RegistryClient start(Map<String, String> env) throws Exception {
        gateway = TestGateway.start(tmp.resolve("gw"), env);
        return gateway.client();
    }

    /** Pushes an image's blobs and manifest; returns its CID (X-Ipfs-Path of the PUT). */
    private static String push(RegistryClient client, String repo, String tag, TestImages.Image image) {
        for (TestImages.Blob blob : image.blobs()) {
            client.pushBlob(repo, blob.content());
        }
        HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + tag, image.manifest(), image.mediaType());
        expect(r, 201, "push " + repo + ":" + tag);
        String path = r.headers().firstValue("X-Ipfs-Path").orElse(null);
        assertNotNull(path, "X-Ipfs-Path");
        return path.substring("/ipfs/".length());
    }

    private static void assertNothingPullable(RegistryClient client, String repo, TestImages.Image image, String cid) {
        assertOciError(client.get("/v2/" + repo + "/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
        String hex = image.digest().substring("sha256:".length());
        assertEquals(404, client.get("/v2/" + hex + "/manifests/" + image.digest()).statusCode(), "digest repository");
        assertEquals(404, client.get("/v2/" + hex + "/manifests/" + cid).statusCode(), "digest repository's CID tag");
        assertEquals(404, client.get("/v2/" + cid + "/manifests/latest").statusCode(), "CID repository");
    }

    @Test
    void deleteByDigest_nothingPullableByNameDigestRepositoryOrCid() throws Exception {
        RegistryClient client = start(Map.of());
        TestImages.Image image = TestImages.ociImage(2);
        String cid = push(client, "del/app", "v1", image);
        expect(client.get("/v2/" + cid + "/manifests/latest"), 200, "CID pullable before the delete");

        expect(client.delete("/v2/del/app/manifests/" + image.digest()), 202, "delete by digest");

        assertNothingPullable(client, "del/app", image, cid);
        assertOciError(client.get("/v2/del/app/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        assertOciError(client.delete("/v2/del/app/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void deleteByDigest_anotherRepositoryHoldsIt_publishedCopiesStayUntilTheLast() throws Exception {
        RegistryClient client = start(Map.of());
        TestImages.Image image = TestImages.ociImage(1);
        String cid = push(client, "del/one", "v1", image);
        push(client, "del/two", "v1", image);

        expect(client.delete("/v2/del/one/manifests/" + image.digest()), 202, "delete from one");
        expect(client.get("/v2/" + cid + "/manifests/latest"), 200, "del/two still holds the image");
        expect(client.get("/v2/del/two/manifests/v1"), 200, "del/two untouched");

        expect(client.delete("/v2/del/two/manifests/" + image.digest()), 202, "delete from two");
        assertNothingPullable(client, "del/two", image, cid);

        assertEquals(cid, push(client, "del/three", "v1", image), "the same image, the same CID");
        expect(client.get("/v2/" + cid + "/manifests/latest"), 200, "a push publishes a deleted image again");
    }

    @Test
    void deleteByTag_onlyTheTagGoes() throws Exception {
        RegistryClient client = start(Map.of());
        TestImages.Image image = TestImages.ociImage(1);
        String cid = push(client, "del/tag", "v1", image);

        expect(client.delete("/v2/del/tag/manifests/v1"), 202, "delete tag");

        assertOciError(client.get("/v2/del/tag/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        expect(client.get("/v2/del/tag/manifests/" + image.digest()), 200, "the manifest stays");
        expect(client.get("/v2/" + cid + "/manifests/latest"), 200, "and its CID");
    }

    @Test
    void adminDelete_cidRepository_takesTheImageDown() throws Exception {
        RegistryClient client = start(Map.of());
        TestImages.Image image = TestImages.ociImage(1);
        String cid = push(client, "adm/app", "v1", image);

        expect(client.delete("/v2/" + cid + "/manifests/latest"), 202, "an administrator (loopback) deletes the CID");

        assertNothingPullable(client, "adm/app", image, cid);
        assertOciError(client.get("/v2/adm/app/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        assertOciError(client.delete("/v2/" + cid + "/manifests/latest"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void nonAdministrator_deleteOfCidAndAdminEndpoints_denied() throws Exception {
        Path users = HtpasswdFile.write(tmp.resolve("htpasswd"), "alice", "wonderland");
        RegistryClient client = start(Map.of("MIRRORBALL_AUTH_HTPASSWD_PATH", users.toString()));
        String alice = HtpasswdFile.basic("alice", "wonderland");
        String cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

        assertOciError(client.send("DELETE", "/v2/" + cid + "/manifests/latest", BodyPublishers.noBody(),
                "Authorization", alice), 403, "DENIED");
        assertOciError(client.send("POST", "/admin/gc", BodyPublishers.noBody(), "Authorization", alice), 403,
                "DENIED");
        assertOciError(client.send("POST", "/admin/fsck?repair=true", BodyPublishers.noBody(), "Authorization",
                alice), 403, "DENIED");
    }

    @Test
    void onlineGc_blobsUploadedBeforeManifestAfter_pullable() throws Exception {
        RegistryClient client = start(Map.of());
        TestImages.Image image = TestImages.ociImage(2);
        for (TestImages.Blob blob : image.blobs()) {
            client.pushBlob("race/app", blob.content());
        }
        HttpResponse<byte[]> dryRun = client.post("/admin/gc?dry-run=true", new byte[0]);
        expect(dryRun, 200, "gc dry run");
        assertTrue(RegistryClient.json(dryRun).path("dryRun").asBoolean(), RegistryClient.describe(dryRun));

        HttpResponse<byte[]> gc = client.post("/admin/gc", new byte[0]);

        expect(gc, 200, "online gc");
        for (TestImages.Blob blob : image.blobs()) {
            assertTrue(!new String(gc.body()).contains(RegistryClient.digestOf(blob.content())),
                    "the pushed blob is not swept: " + new String(gc.body()));
        }
        push(client, "race/app", "v1", image);
        for (TestImages.Blob blob : image.blobs()) {
            expect(client.get("/v2/race/app/blobs/" + RegistryClient.digestOf(blob.content())), 200, "blob");
        }
        expect(client.get("/v2/race/app/manifests/v1"), 200, "manifest");
        assertOciError(client.get("/admin/gc"), 405, "UNSUPPORTED");
    }

    /** Replaces a blob's entry with other bytes of the same size, as a disk fault would leave it. */
    private void corrupt(Digest digest, long size) throws Exception {
        IpfsNode node = gateway.gateway().node();
        byte[] other = RegistryClient.randomBytes((int) size);
        IpfsNode.Added added = node.add(new ByteArrayInputStream(other));
        String data = gateway.mfsRoot() + "/blobs/sha256/" + digest.hex().substring(0, 2) + "/" + digest.hex() + "/data";
        node.filesRm(data);
        node.filesCp("/ipfs/" + added.cid(), data);
    }

    private static JsonNode problem(JsonNode report, Digest digest) {
        for (JsonNode p : report.path("problems")) {
            if (p.path("digest").asText().equals(digest.toString())) {
                return p;
            }
        }
        return null;
    }

    @Test
    void adminFsck_corruptPulledThroughBlob_repairedFromTheUpstream() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(11).layer(90_000, true)
                .build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/team/scrub:v1");
        RegistryClient client = start(Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
        skopeo.copy("docker://" + gateway.uri().getAuthority() + "/team/scrub:v1", "dir:" + tmp.resolve("out"));
        Digest layer = image.layerDigests().get(0);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (gateway.gateway().retention().orElseThrow().ledger().item(layer).isEmpty()
                && System.nanoTime() < deadline) {
            Thread.sleep(50); // the ledger hears of a mirrored blob when its add is done
        }
        corrupt(layer, image.layers().get(0).size());

        HttpResponse<byte[]> check = client.post("/admin/fsck", new byte[0]);
        expect(check, 200, "fsck");
        JsonNode found = problem(RegistryClient.json(check), layer);
        assertNotNull(found, RegistryClient.describe(check));
        assertEquals("reported", found.path("action").asText());

        HttpResponse<byte[]> repair = client.post("/admin/fsck?repair=true", new byte[0]);

        expect(repair, 200, "fsck repair");
        JsonNode repaired = problem(RegistryClient.json(repair), layer);
        assertNotNull(repaired, RegistryClient.describe(repair));
        assertEquals("repaired", repaired.path("action").asText(), RegistryClient.describe(repair));
        HttpResponse<byte[]> blob = client.get("/v2/team/scrub/blobs/" + layer);
        expect(blob, 200, "the repaired blob");
        assertEquals(layer.toString(), RegistryClient.digestOf(blob.body()));
        HttpResponse<byte[]> again = client.post("/admin/fsck", new byte[0]);
        assertEquals(0, RegistryClient.json(again).path("problems").size(), RegistryClient.describe(again));
    }

    @Test
    void adminFsck_corruptPushedBlob_removedUntilPushedAgain() throws Exception {
        RegistryClient client = start(Map.of());
        byte[] content = RegistryClient.randomBytes(70_000);
        Digest digest = Digest.parse(client.pushBlob("scrub/pushed", content));
        corrupt(digest, content.length);

        HttpResponse<byte[]> repair = client.post("/admin/fsck?repair=true", new byte[0]);

        expect(repair, 200, "fsck repair");
        JsonNode removed = problem(RegistryClient.json(repair), digest);
        assertNotNull(removed, RegistryClient.describe(repair));
        assertEquals("removed", removed.path("action").asText());
        assertOciError(client.get("/v2/scrub/pushed/blobs/" + digest), 404, "BLOB_UNKNOWN");
        client.pushBlob("scrub/pushed", content);
        HttpResponse<byte[]> blob = client.get("/v2/scrub/pushed/blobs/" + digest);
        expect(blob, 200, "pushed again");
        assertEquals(digest.toString(), RegistryClient.digestOf(blob.body()));
    }
}
