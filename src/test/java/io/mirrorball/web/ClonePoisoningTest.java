package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.KuboNode;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 9, blob poisoning through a clone: an image whose disco.json maps a digest to the CID of
 * other bytes must not put those bytes into the blob store under that digest, and a stored entry
 * that holds other bytes is replaced by the next honest push. Runs on the kit node (Kubo's RPC API),
 * where such a DAG could come from the IPFS network.
 */
final class ClonePoisoningTest {
    private static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

    @TempDir
    Path tmp;
    private TestGateway gateway;

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static KuboNode kit() {
        return KuboNode.shared();
    }

    /** An image: a config, one layer and a manifest, with their digests. */
    private record Image(byte[] manifest, byte[] config, byte[] layer) {
        static Image random() {
            byte[] layer = RegistryClient.randomBytes(300_000); // two chunks: a dag-pb root and raw leaves
            byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
                    + "\"comment\":\"" + UUID.randomUUID() + "\"}").getBytes(StandardCharsets.UTF_8);
            byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + DOCKER_MANIFEST + "\","
                    + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\""
                    + Digest.ofBytes(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                    + "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" + Digest.ofBytes(layer)
                    + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
            return new Image(manifest, config, layer);
        }

        Map<String, byte[]> blobs() {
            Map<String, byte[]> blobs = new LinkedHashMap<>();
            blobs.put("manifest", manifest);
            blobs.put("config", config);
            blobs.put("layer", layer);
            return blobs;
        }
    }

    /**
     * Builds the image on the kit node in the layout of mirrorball (CIDv1) or disco (CIDv0), with
     * disco.json mapping the digest of {@code liar} to the CID of other bytes; returns its CIDv1.
     */
    private static String craft(Image image, String liar, int cidVersion) {
        String dir = "/poison-" + UUID.randomUUID();
        StringBuilder disco = new StringBuilder("{\"blobs\":[");
        boolean first = true;
        for (Map.Entry<String, byte[]> blob : image.blobs().entrySet()) {
            byte[] bytes = blob.getKey().equals(liar) ? RegistryClient.randomBytes(blob.getValue().length) : blob.getValue();
            String cid = hashOf(kit().rpcWithFile("add?pin=false&cid-version=" + cidVersion
                    + (cidVersion == 1 ? "&raw-leaves=true" : ""), bytes));
            disco.append(first ? "" : ",").append("{\"digest\":\"").append(Digest.ofBytes(blob.getValue()).hex())
                    .append("\",\"cid\":\"").append(cid).append("\"}");
            first = false;
        }
        disco.append("]}");
        Digest manifest = Digest.ofBytes(image.manifest());
        write(dir + "/disco.json", disco.toString());
        write(dir + "/_manifests/tags/latest/current/link", manifest.toString());
        write(dir + "/_manifests/tags/latest/index/sha256/" + manifest.hex() + "/link", manifest.toString());
        write(dir + "/_manifests/revisions/sha256/" + manifest.hex() + "/link", manifest.toString());
        for (byte[] blob : new byte[][] {image.config(), image.layer()}) {
            Digest digest = Digest.ofBytes(blob);
            write(dir + "/_layers/sha256/" + digest.hex() + "/link", digest.toString());
        }
        String stat = kit().rpc("files/stat?arg=" + URLEncoder.encode(dir, StandardCharsets.UTF_8));
        return Cid.parse(hashOf(stat)).toV1().toString();
    }

    private static void write(String path, String content) {
        kit().rpcWithFile("files/write?arg=" + URLEncoder.encode(path, StandardCharsets.UTF_8)
                + "&create=true&parents=true&truncate=true", content.getBytes(StandardCharsets.UTF_8));
    }

    private static String hashOf(String json) {
        Matcher m = Pattern.compile("\"Hash\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }

    /** True when the gateway's blob store has an entry for this digest. */
    private boolean stored(Digest digest) {
        try {
            kit().rpc("files/stat?arg=" + URLEncoder.encode(gateway.mfsRoot() + "/blobs/sha256/"
                    + digest.hex().substring(0, 2) + "/" + digest.hex() + "/data", StandardCharsets.UTF_8));
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    @ParameterizedTest(name = "{0} lies, CIDv{1}")
    @CsvSource({"layer, 1", "manifest, 1", "config, 0", "layer, 0"})
    void clone_ofImageWhoseDiscoJsonMapsADigestToOtherBytes_isRefusedAndPoisonsNothing(String liar, int cidVersion)
            throws Exception {
        gateway = TestGateway.start(kit().apiUrl().toString(), "/t-" + UUID.randomUUID(), tmp, Map.of());
        RegistryClient client = gateway.client();
        Image image = Image.random();
        String cid = craft(image, liar, cidVersion);
        Digest poisoned = Digest.ofBytes(image.blobs().get(liar));

        for (int pull = 0; pull < 2; pull++) { // the second is refused from memory, with the same error
            JsonNode error = RegistryClient.assertOciError(client.get("/v2/" + cid + "/manifests/latest",
                    "Accept", DOCKER_MANIFEST), 400, "MANIFEST_INVALID");
            String message = error.toString();
            assertTrue(message.contains(poisoned.toString()) && message.contains("do not match"), message);
            assertFalse(message.contains(gateway.mfsRoot()), "no MFS path in the message: " + message);
        }
        RegistryClient.assertOciError(client.get("/v2/" + cid + "/blobs/" + Digest.ofBytes(image.layer())), 400,
                "MANIFEST_INVALID");
        assertFalse(stored(poisoned), "the other bytes were placed under " + poisoned);

        // the honest push of the same bytes is pullable, with the right size
        client.pushBlob("honest/app", image.blobs().get(liar));
        HttpResponse<byte[]> head = client.head("/v2/honest/app/blobs/" + poisoned);
        RegistryClient.expect(head, 200, "HEAD of the honest blob");
        assertEquals(String.valueOf(image.blobs().get(liar).length), RegistryClient.header(head, "Content-Length"));
        HttpResponse<byte[]> got = client.get("/v2/honest/app/blobs/" + poisoned);
        RegistryClient.expect(got, 200, "GET of the honest blob");
        assertArrayEquals(image.blobs().get(liar), got.body());
    }

    @Test
    void clone_ofHonestImage_checksEveryBlobAndIsPullable() throws Exception {
        gateway = TestGateway.start(kit().apiUrl().toString(), "/t-" + UUID.randomUUID(), tmp, Map.of());
        RegistryClient client = gateway.client();
        Image image = Image.random();
        String cid = craft(image, "none", 0);

        HttpResponse<byte[]> manifest = client.get("/v2/" + cid + "/manifests/latest", "Accept", DOCKER_MANIFEST);
        RegistryClient.expect(manifest, 200, "manifest of the cloned image");
        assertArrayEquals(image.manifest(), manifest.body());
        for (byte[] blob : new byte[][] {image.config(), image.layer()}) {
            assertTrue(stored(Digest.ofBytes(blob)), "placed once checked");
            HttpResponse<byte[]> got = client.get("/v2/" + cid + "/blobs/" + Digest.ofBytes(blob));
            RegistryClient.expect(got, 200, "blob of the cloned image");
            assertArrayEquals(blob, got.body());
        }
    }

    /** The entry an older version placed unverified: the honest push answered 201 but was never pullable. */
    @Test
    void push_ofBlobWhoseStoredEntryHoldsOtherBytes_replacesIt() throws Exception {
        gateway = TestGateway.start(kit().apiUrl().toString(), "/t-" + UUID.randomUUID(), tmp, Map.of());
        RegistryClient client = gateway.client();
        byte[] honest = RegistryClient.randomBytes(300_000);
        Digest digest = Digest.ofBytes(honest);
        String other = hashOf(kit().rpcWithFile("add?pin=false&cid-version=1&raw-leaves=true",
                RegistryClient.randomBytes(1000)));
        kit().rpc("files/cp?arg=/ipfs/" + other + "&arg=" + URLEncoder.encode(gateway.mfsRoot() + "/blobs/sha256/"
                + digest.hex().substring(0, 2) + "/" + digest.hex() + "/data", StandardCharsets.UTF_8) + "&parents=true");

        client.pushBlob("app", honest);
        HttpResponse<byte[]> head = client.head("/v2/app/blobs/" + digest);
        RegistryClient.expect(head, 200, "HEAD after the push");
        assertEquals(String.valueOf(honest.length), RegistryClient.header(head, "Content-Length"));
        HttpResponse<byte[]> got = client.get("/v2/app/blobs/" + digest);
        RegistryClient.expect(got, 200, "GET after the push");
        assertArrayEquals(honest, got.body());
        // and in a session upload too, to another repository: still the right bytes
        client.pushBlobInSession("other", honest);
        assertArrayEquals(honest, client.get("/v2/other/blobs/" + digest).body());
    }
}
