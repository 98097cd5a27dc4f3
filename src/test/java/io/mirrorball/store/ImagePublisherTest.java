package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.testing.FaultyNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ImagePublisherTest {
    private static final String ROOT = "/docker/registry/v2";
    @TempDir
    Path tmp;
    private FaultyNode node;
    private RegistryStore store;

    @BeforeEach
    void open() throws Exception {
        node = new FaultyNode(EmbeddedNode.open(tmp.resolve("ipfs")));
        store = RegistryStore.open(node, ROOT, tmp.resolve("uploads"), Duration.ofHours(1), Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        store.close();
        node.close();
    }

    private byte[] image(RepositoryName name) throws Exception {
        byte[] layer = "layer".repeat(100_000).getBytes(StandardCharsets.UTF_8);
        byte[] config = "{\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        for (byte[] blob : List.of(layer, config)) {
            Digest d = Digest.ofBytes(blob);
            store.blobs().put(new ByteArrayInputStream(blob), d);
            store.blobs().link(name, d);
        }
        return ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
                + "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.ofBytes(config)
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + Digest.ofBytes(layer) + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
    }

    /** An image of {@code layers} distinct small layers and a config, its blobs stored and linked to {@code name}. */
    private byte[] imageOfManyLayers(RepositoryName name, int layers) throws Exception {
        byte[] config = "{\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        StringBuilder descriptors = new StringBuilder();
        for (int i = 0; i < layers; i++) {
            byte[] layer = ("layer " + i).getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.ofBytes(layer);
            store.blobs().put(new ByteArrayInputStream(layer), d);
            store.blobs().link(name, d);
            descriptors.append(i == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                    + "\"digest\":\"").append(d).append("\",\"size\":").append(layer.length).append("}");
        }
        store.blobs().put(new ByteArrayInputStream(config), Digest.ofBytes(config));
        store.blobs().link(name, Digest.ofBytes(config));
        return ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
                + "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.ofBytes(config)
                + "\",\"size\":" + config.length + "},\"layers\":[" + descriptors + "]}").getBytes(StandardCharsets.UTF_8);
    }

    private List<String> repositories() throws Exception {
        return node.filesLs(ROOT + "/repositories").stream().map(IpfsNode.FileEntry::name)
                .collect(Collectors.toList());
    }

    @Test
    void publish_failingHalfway_leavesNothingVisible_andRetrySucceeds() throws Exception {
        RepositoryName name = RepositoryName.parse("org/app");
        byte[] manifest = image(name);
        for (int budget : new int[]{0, 3, 9}) {
            node.failBlockPutAfter(budget);
            assertThrows(IpfsException.class, () -> store.manifests().put(name, Reference.ofTag("v1"), manifest,
                    null));
            assertEquals(List.of("org"), repositories(), "nothing but the pushed name after a failure at " + budget);
            assertTrue(store.manifests().resolve(name, Reference.ofTag("v1")).isEmpty(), "tag not moved");
        }
        node.heal();
        ManifestStore.PutResult result = store.manifests().put(name, Reference.ofTag("v1"), manifest, null);
        Cid cid = result.published();
        Digest digest = Digest.ofBytes(manifest);
        assertEquals(List.of(cid.toString(), digest.hex(), "org").stream().sorted().toList(),
                repositories().stream().sorted().toList());
        assertEquals(cid, node.filesStat(ROOT + "/repositories/" + cid).orElseThrow().cid(),
                "the node reports the CID mirrorball computed");
        assertEquals(cid, store.publisher().publishedCid(digest).orElseThrow());
        // the image directory holds every blob: disco.json lists manifest, config and layer in order
        try (InputStream in = node.cat(cid + "/disco.json", 0, -1)) {
            String disco = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(disco.startsWith("{\"blobs\":[{\"digest\":\"" + digest.hex() + "\""), disco);
        }
        // publishing again is idempotent
        assertEquals(cid, store.manifests().put(name, Reference.ofTag("v2"), manifest, null).published());
    }

    /** Regression: an image of 2,620 or more blobs failed with "HAMT-sharded ... not supported". */
    @Test
    void publish_imageWithShardedBlobsDirectory_failingHalfwayLeavesNothingVisible_andRetrySucceeds() throws Exception {
        RepositoryName name = RepositoryName.parse("big/app");
        byte[] manifest = imageOfManyLayers(name, 2_700);
        Digest digest = Digest.ofBytes(manifest);
        for (int budget : new int[]{0, 40, 2_750}) {
            node.failBlockPutAfter(budget);
            assertThrows(IpfsException.class, () -> store.manifests().put(name, Reference.ofTag("v1"), manifest,
                    null));
            assertEquals(List.of("big"), repositories(), "nothing but the pushed name after a failure at " + budget);
            assertTrue(store.manifests().resolve(name, Reference.ofTag("v1")).isEmpty(), "tag not moved");
            assertTrue(store.publisher().publishedCid(digest).isEmpty(), "no digest repository");
        }
        node.heal();
        Cid cid = store.manifests().put(name, Reference.ofTag("v1"), manifest, null).published();

        String blobs = ROOT + "/repositories/" + cid + "/blobs/sha256";
        Cid blobsCid = node.filesStat(blobs).orElseThrow().cid();
        byte[] shard = node.blockGet(blobsCid);
        assertEquals("0805", java.util.HexFormat.of().formatHex(io.mirrorball.ipfs.DagPb.decode(shard).data(), 0, 2),
                "blobs/sha256 is a HAMT shard");
        assertEquals(2_702, node.filesLs(blobs).size(), "every layer, the config and the manifest");
        byte[] layer = "layer 1234".getBytes(StandardCharsets.UTF_8);
        try (InputStream in = node.cat(cid + "/blobs/sha256/" + Digest.ofBytes(layer).hex(), 0, -1)) {
            assertArrayEquals(layer, in.readAllBytes());
        }
        assertEquals(cid, store.publisher().publishedCid(digest).orElseThrow());
    }
}
