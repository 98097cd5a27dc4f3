package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.KuboOffline;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image with enough blobs that its {@code blobs/sha256} directory is HAMT-sharded publishes, pulls
 * by CID, and has the CID that Kubo's {@code ipfs add -r} gives the same tree. Regression for the
 * manifest PUT that failed with 500 ("HAMT-sharded ... not supported") from about 2,620 blobs.
 */
final class ShardedImageTest {
    private static final int LAYERS = 2_700;

    @TempDir
    Path tmp;

    @Test
    void push_imageOf2700Layers_publishesShardedAndEqualsKubosAddOfTheSameTree() throws Exception {
        List<TestImages.Blob> layers = new ArrayList<>();
        for (int i = 0; i < LAYERS; i++) {
            layers.add(TestImages.layer(MediaTypes.OCI_LAYER_TAR_GZIP, 32));
        }
        TestImages.Image image = TestImages.manifest(MediaTypes.OCI_MANIFEST,
                TestImages.config(MediaTypes.OCI_CONFIG), layers, "");
        String cid;
        TestGateway gateway = TestGateway.start("embedded", "/sharded", tmp, Map.of());
        try {
            RegistryClient client = gateway.client();
            for (TestImages.Blob blob : image.blobs()) {
                client.pushBlob("big/app", blob.content());
            }
            HttpResponse<byte[]> put = client.put("/v2/big/app/manifests/v1", image.manifest(), image.mediaType());
            RegistryClient.expect(put, 201, "PUT of a manifest with " + LAYERS + " layers");
            String ipfsPath = put.headers().firstValue("X-Ipfs-Path").orElse(null);
            assertNotNull(ipfsPath, "X-Ipfs-Path");
            assertTrue(ipfsPath.startsWith("/ipfs/bafy"), ipfsPath);
            cid = ipfsPath.substring("/ipfs/".length());

            gateway = gateway.restart();
            client = gateway.client();
            HttpResponse<byte[]> manifest = client.get("/v2/" + cid + "/manifests/latest");
            RegistryClient.expect(manifest, 200, "manifest by CID");
            assertArrayEquals(image.manifest(), manifest.body());
            for (TestImages.Blob blob : List.of(layers.get(0), layers.get(1_717), layers.get(LAYERS - 1))) {
                HttpResponse<byte[]> got = client.get("/v2/" + cid + "/blobs/" + blob.digest());
                RegistryClient.expect(got, 200, "blob by CID through the sharded blobs directory");
                assertArrayEquals(blob.content(), got.body());
            }
        } finally {
            gateway.close();
        }

        Path car = tmp.resolve("image.car");
        try (EmbeddedNode node = EmbeddedNode.open(tmp.resolve("ipfs-embedded"));
             InputStream export = node.dagExport(Cid.parse(cid))) {
            Files.copy(export, car);
        }
        KuboOffline kubo = KuboOffline.init(Files.createDirectories(tmp.resolve("kubo")), DirectoryParams.KUBO_DEFAULTS);
        kubo.run("dag", "import", "--pin-roots=false", car.toString());
        String hex = layers.get(42).digest().substring("sha256:".length());
        assertEquals(Cid.parse(kubo.run("add", "-Q", "--only-hash", "--cid-version=1", "--raw-leaves",
                        writeTemp(layers.get(42).content()).toString()).strip()).toString(),
                kubo.run("resolve", "/ipfs/" + cid + "/blobs/sha256/" + hex).strip().substring("/ipfs/".length()),
                "Kubo resolves a blob through mirrorball's shards");
        Path tree = tmp.resolve("exported");
        kubo.run("get", "-o", tree.toString(), cid);

        assertEquals(cid, kubo.add(tree).toString(), "ipfs add -r of the image directory on Kubo");
    }

    private Path writeTemp(byte[] content) throws Exception {
        return Files.write(Files.createTempFile(tmp, "blob", ".bin"), content);
    }
}
