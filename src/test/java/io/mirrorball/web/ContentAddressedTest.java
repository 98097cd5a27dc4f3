package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.KuboNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every push becomes one deterministic CID, pullable by that CID (and by digest) as a read-only repository. */
final class ContentAddressedTest {
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private RegistryClient gateway(String node, String... overrides) throws Exception {
        Map<String, String> env = new HashMap<>();
        String id = UUID.randomUUID().toString();
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", node);
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs-" + id).toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads-" + id).toString());
        env.put("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/ca-" + id);
        for (int i = 0; i < overrides.length; i += 2) {
            env.put(overrides[i], overrides[i + 1]);
        }
        GatewayServer server = GatewayServer.start(ConfigLoader.load(Optional.empty(), env));
        open.add(server);
        return new RegistryClient(server.uri());
    }

    private static String ipfsPath(HttpResponse<?> response) {
        String path = response.headers().firstValue("X-Ipfs-Path").orElse(null);
        assertNotNull(path, "X-Ipfs-Path header");
        assertTrue(path.startsWith("/ipfs/bafy"), path);
        return path.substring("/ipfs/".length());
    }

    private static String push(RegistryClient client, String repo, String tag, TestImages.Image image) {
        for (TestImages.Blob blob : image.blobs()) {
            client.pushBlob(repo, blob.content());
        }
        HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + tag, image.manifest(), image.mediaType());
        RegistryClient.expect(r, 201, "push " + repo + ":" + tag);
        return ipfsPath(r);
    }

    private static String pushIndex(RegistryClient client, String repo, String tag, TestImages.Image index,
                                    List<TestImages.Image> children) {
        for (TestImages.Image child : children) {
            for (TestImages.Blob blob : child.blobs()) {
                client.pushBlob(repo, blob.content());
            }
            client.pushManifest(repo, child.digest(), child.manifest(), child.mediaType());
        }
        HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + tag, index.manifest(), index.mediaType());
        RegistryClient.expect(r, 201, "push index " + repo + ":" + tag);
        return ipfsPath(r);
    }

    @Test
    void publish_sameImageGetsSameCidOnEmbeddedAndRealNode() throws Exception {
        RegistryClient embedded = gateway("embedded");
        RegistryClient real = gateway(KuboNode.shared().apiUrl().toString());
        TestImages.Image image = TestImages.ociImage(3);
        String a = push(embedded, "org/team/app", "v1", image);
        String b = push(real, "other", "latest", image);
        String c = push(embedded, "third/name", "x", image);
        assertEquals(a, b, "embedded and real node");
        assertEquals(a, c, "two names on one node");
        TestImages.Image other = TestImages.ociImage(3);
        assertNotEquals(a, push(embedded, "org/team/app", "v2", other), "a different image");

        List<TestImages.Image> children = List.of(TestImages.ociImage(2), TestImages.ociImage(1));
        TestImages.Image index = TestImages.index(MediaTypes.OCI_INDEX, children);
        assertEquals(pushIndex(embedded, "multi/arch", "v1", index, children),
                pushIndex(real, "multi", "2024", index, children), "multi-arch index");
    }

    @Test
    void pull_byCidAndByDigestRepository() throws Exception {
        RegistryClient client = gateway("embedded");
        TestImages.Image image = TestImages.dockerImage(2);
        String cid = push(client, "ns/app", "v1", image);
        String hex = image.digest().substring("sha256:".length());

        HttpResponse<byte[]> byTag = client.get("/v2/ns/app/manifests/v1");
        assertEquals(cid, ipfsPath(byTag), "GET of the pushed name carries the image CID");
        for (String repo : List.of(cid, hex)) {
            HttpResponse<byte[]> manifest = client.get("/v2/" + repo + "/manifests/latest");
            RegistryClient.expect(manifest, 200, "manifest of " + repo);
            assertArrayEquals(image.manifest(), manifest.body());
            assertEquals(MediaTypes.DOCKER_MANIFEST, RegistryClient.header(manifest, "Content-Type"));
            assertEquals(cid, ipfsPath(client.head("/v2/" + repo + "/manifests/" + image.digest())));
            for (TestImages.Blob blob : image.blobs()) {
                HttpResponse<byte[]> got = client.get("/v2/" + repo + "/blobs/" + blob.digest());
                RegistryClient.expect(got, 200, "blob of " + repo);
                assertArrayEquals(blob.content(), got.body());
            }
        }
        JsonNode cidTags = RegistryClient.json(client.get("/v2/" + cid + "/tags/list"));
        assertEquals("[\"latest\"]", cidTags.get("tags").toString());
        JsonNode hexTags = RegistryClient.json(client.get("/v2/" + hex + "/tags/list"));
        assertEquals("[\"" + cid + "\",\"latest\"]", hexTags.get("tags").toString());
        // the content-addressed copies are not listed as repositories of their own
        assertEquals("[\"ns/app\"]", RegistryClient.json(client.get("/v2/_catalog")).get("repositories").toString());
        // ipdr names of the same image: base32 of the CIDv0 multihash
        String ipdr = Cid.parse(cid).toIpdr();
        assertTrue(ipdr.startsWith("ciq"), ipdr);
    }

    @Test
    void writes_toContentAddressedRepositories_areDenied() throws Exception {
        RegistryClient client = gateway("embedded");
        TestImages.Image image = TestImages.ociImage(1);
        String cid = push(client, "app", "v1", image);
        String hex = image.digest().substring("sha256:".length());
        for (String repo : List.of(cid, hex)) {
            RegistryClient.assertOciError(client.post("/v2/" + repo + "/blobs/uploads/", new byte[0]), 403, "DENIED");
            RegistryClient.assertOciError(client.put("/v2/" + repo + "/manifests/latest", image.manifest(),
                    image.mediaType()), 403, "DENIED");
            RegistryClient.assertOciError(client.delete("/v2/" + repo + "/blobs/" + image.blobs().get(0).digest()),
                    403, "DENIED");
        }
        // the pushed name stays an ordinary mutable repository
        RegistryClient.expect(client.delete("/v2/app/manifests/v1"), 202, "delete tag of the pushed name");
        RegistryClient.expect(client.get("/v2/" + cid + "/manifests/latest"), 200, "CID still pullable");
        // an administrator (a loopback client without auth) may delete it: see GarbageCollectionTest
    }

    @Test
    void names_badAndUnknownCids() throws Exception {
        RegistryClient client = gateway("embedded");
        RegistryClient.assertOciError(client.get("/v2/bafybei" + "a".repeat(40) + "/tags/list"), 400, "NAME_INVALID");
        RegistryClient.assertOciError(client.get("/v2/ciq" + "z".repeat(52) + "/manifests/latest"), 400,
                "NAME_INVALID");
        // a valid CID that no node has: the embedded node cannot fetch it, so this is quick
        String absent = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        long start = System.nanoTime();
        RegistryClient.assertOciError(client.get("/v2/" + absent + "/manifests/latest"), 404, "NAME_UNKNOWN");
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 30, "answered without hanging");
        RegistryClient.assertOciError(client.get("/v2/" + "ab".repeat(32) + "/manifests/latest"), 404, "NAME_UNKNOWN");
    }

    @Test
    void clone_timesOutWithClearErrorOnRealNode() throws Exception {
        RegistryClient client = gateway(KuboNode.shared().apiUrl().toString(),
                "MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT", "2s");
        String absent = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        long start = System.nanoTime();
        RegistryClient.assertOciError(client.get("/v2/" + absent + "/manifests/latest"), 404, "NAME_UNKNOWN");
        long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        assertTrue(seconds < 20, "clone-timeout 2s bounded the request, took " + seconds + "s");
    }

    @Test
    void clone_disabled_givesNameUnknown() throws Exception {
        RegistryClient a = gateway("embedded");
        TestImages.Image image = TestImages.ociImage(1);
        String cid = push(a, "app", "v1", image);
        RegistryClient b = gateway("embedded", "MIRRORBALL_STORAGE_IPFS_CLONE", "false");
        RegistryClient.assertOciError(b.get("/v2/" + cid + "/manifests/latest"), 404, "NAME_UNKNOWN");
    }
}
