package io.mirrorball.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

final class OciLayoutBuilderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void build_sameArguments_sameDigests() {
        OciLayoutBuilder.Image first = OciLayoutBuilder.at(tmp.resolve("a")).layer(100_000, true).layer(5000, false)
                .build("v1");
        OciLayoutBuilder.Image second = OciLayoutBuilder.at(tmp.resolve("b")).layer(100_000, true).layer(5000, false)
                .build("v1");
        OciLayoutBuilder.Image otherSeed = OciLayoutBuilder.at(tmp.resolve("c")).seed(2).layer(100_000, true)
                .layer(5000, false).build("v1");
        assertEquals(first.manifestDigest(), second.manifestDigest());
        assertEquals(first.layerDigests(), second.layerDigests());
        assertNotEquals(first.manifestDigest(), otherSeed.manifestDigest());
    }

    @Test
    void build_layers_areTarsOfTheGivenSizeWithMatchingDiffIds() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp).layer(1_000_003, true).layer(4096, false)
                .layer(0, true).build("v1");
        assertEquals(3, image.layers().size());
        OciLayoutBuilder.Blob gzip = image.layers().get(0);
        OciLayoutBuilder.Blob plain = image.layers().get(1);
        assertEquals(MediaTypes.OCI_LAYER_TAR_GZIP, gzip.mediaType());
        assertEquals(OciLayoutBuilder.OCI_LAYER_TAR, plain.mediaType());
        assertEquals(512 + 4096 + 1024, plain.size());
        assertEquals(plain.digest(), plain.diffId());
        for (OciLayoutBuilder.Blob layer : image.layers()) {
            Path file = tmp.resolve("blobs/sha256").resolve(layer.digest().hex());
            assertEquals(layer.size(), Files.size(file));
            assertEquals(layer.digest(), sha256(file, false));
            assertEquals(layer.diffId(), sha256(file, layer.mediaType().endsWith("gzip")));
        }
        // the real tar tool lists the one file with its size
        Process tar = new ProcessBuilder("tar", "-tvzf", tmp.resolve("blobs/sha256").resolve(gzip.digest().hex())
                .toString()).redirectErrorStream(true).start();
        assertTrue(tar.waitFor(30, TimeUnit.SECONDS));
        String listing = new String(tar.getInputStream().readAllBytes());
        assertEquals(0, tar.exitValue(), listing);
        assertTrue(listing.contains("1000003"), listing);

        JsonNode config = JSON.readTree(tmp.resolve("blobs/sha256").resolve(image.config().digest().hex()).toFile());
        assertEquals(gzip.diffId().toString(), config.path("rootfs").path("diff_ids").path(0).asText());
        JsonNode index = JSON.readTree(tmp.resolve("index.json").toFile());
        assertEquals(image.manifestDigest().toString(), index.path("manifests").path(0).path("digest").asText());
        assertEquals("v1", index.path("manifests").path(0).path("annotations")
                .path("org.opencontainers.image.ref.name").asText());
    }

    @Test
    void buildMultiArch_twoPlatforms_indexReferencesBothWithOwnLayers() throws IOException {
        OciLayoutBuilder.at(tmp).layer(1000, true).build("single");
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(tmp).seed(3).layer(20_000, true).layer(10, true)
                .buildMultiArch("multi");
        JsonNode index = JSON.readTree(tmp.resolve("blobs/sha256").resolve(multi.indexDigest().hex()).toFile());
        assertEquals(MediaTypes.OCI_INDEX, index.path("mediaType").asText());
        assertEquals(2, index.path("manifests").size());
        assertEquals("amd64", index.path("manifests").path(0).path("platform").path("architecture").asText());
        assertEquals("arm64", index.path("manifests").path(1).path("platform").path("architecture").asText());
        assertEquals(multi.platforms().get(1).manifestDigest().toString(),
                index.path("manifests").path(1).path("digest").asText());
        assertNotEquals(multi.platforms().get(0).layerDigests(), multi.platforms().get(1).layerDigests());
        JsonNode layoutIndex = JSON.readTree(tmp.resolve("index.json").toFile());
        assertEquals(2, layoutIndex.path("manifests").size(), "both tags are kept in index.json");
    }

    private static Digest sha256(Path file, boolean gunzip) throws IOException {
        MessageDigest sha = Digest.newSha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gunzip ? new GZIPInputStream(raw) : raw) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return Digest.sha256(sha.digest());
    }
}
