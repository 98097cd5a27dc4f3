package io.mirrorball.oci;

import static io.mirrorball.testing.FuzzInput.afterFirstLine;
import static io.mirrorball.testing.FuzzInput.assertClientError;
import static io.mirrorball.testing.FuzzInput.firstLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Manifests and indexes as a client PUTs or an upstream serves them. Input: the Content-Type on
 * the first line, the document after it (seeds in ManifestFuzzTestInputs/parse_anyBytes).
 */
final class ManifestFuzzTest {

    @FuzzTest
    void parse_anyBytes(byte[] input) {
        String contentType = firstLine(input);
        byte[] content = afterFirstLine(input);
        Manifest manifest;
        try {
            manifest = Manifest.parse(content, contentType.isEmpty() ? null : contentType);
        } catch (OciException e) {
            assertClientError(e);
            return;
        }
        assertTrue(MediaTypes.ALL.contains(manifest.mediaType()), manifest.mediaType());
        if (manifest.isIndex()) {
            assertNull(manifest.config());
            assertTrue(manifest.layers().isEmpty());
        } else {
            assertNotNull(manifest.config());
            assertTrue(manifest.manifests().isEmpty());
            assertEquals(manifest.layers().size() + 1, manifest.blobs().size());
        }
        for (Descriptor d : manifest.blobs()) {
            assertTrue(d.size() >= 0);
            assertEquals(d.digest(), Digest.parse(d.digest().toString()));
        }
        assertEquals(manifest, Manifest.parse(content, contentType.isEmpty() ? null : contentType));
    }
}
