package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.RepositoryName;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tags kept per upstream in MFS, on the embedded node: the layout, reads that verify, listing and removal. */
final class UpstreamTagsTest {
    private static final String ROOT = "/docker/registry/v2";
    private static final RepositoryName APP = RepositoryName.parse("org/app");
    private static final Digest ONE = Digest.ofBytes("one".getBytes(StandardCharsets.UTF_8));
    private static final Digest TWO = Digest.ofBytes("two".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path tmp;
    private EmbeddedNode node;
    private UpstreamTags tags;

    @BeforeEach
    void setUp() throws Exception {
        node = EmbeddedNode.open(tmp.resolve("ipfs"));
        tags = new UpstreamTags(node, new MfsPaths(ROOT));
    }

    @AfterEach
    void tearDown() throws Exception {
        node.close();
    }

    @Test
    void write_distributionLinkLayoutPerUpstream_readBack() throws Exception {
        tags.write("docker.io", APP, "v1", ONE, MediaTypes.OCI_MANIFEST);
        tags.write("ghcr.io", APP, "v1", TWO, null);
        assertTrue(node.filesStat(ROOT + "/upstreams/docker.io/org/app/_manifests/tags/v1/current/link").isPresent());
        assertEquals(Optional.of(new UpstreamTags.Tagged(ONE, MediaTypes.OCI_MANIFEST)), tags.read("docker.io", APP, "v1"));
        assertEquals(Optional.of(new UpstreamTags.Tagged(TWO, null)), tags.read("ghcr.io", APP, "v1"));
        assertEquals(Optional.empty(), tags.read("quay.io", APP, "v1"));
        tags.write("docker.io", APP, "v1", TWO, MediaTypes.OCI_INDEX);
        assertEquals(Optional.of(new UpstreamTags.Tagged(TWO, MediaTypes.OCI_INDEX)), tags.read("docker.io", APP, "v1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "sha256:", "sha256:abc", "not a digest", "sha256:zz"})
    void read_linkNotADigest_ignored(String link) throws Exception {
        tags.write("docker.io", APP, "v1", ONE, MediaTypes.OCI_MANIFEST);
        node.filesWrite(ROOT + "/upstreams/docker.io/org/app/_manifests/tags/v1/current/link",
                link.getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.empty(), tags.read("docker.io", APP, "v1"));
    }

    @Test
    void read_tornMediaType_digestKeptTypeUnknown() throws Exception {
        tags.write("docker.io", APP, "v1", ONE, MediaTypes.OCI_MANIFEST);
        node.filesWrite(ROOT + "/upstreams/docker.io/org/app/_manifests/revisions/sha256/" + ONE.hex() + "/mediatype",
                "application/vnd.oci.ima".getBytes(StandardCharsets.UTF_8));
        UpstreamTags.Tagged tagged = tags.read("docker.io", APP, "v1").orElseThrow();
        assertEquals(ONE, tagged.digest());
        assertNull(tagged.mediaType());
    }

    @Test
    void listingAndRemove_forRetention() throws Exception {
        tags.write("docker.io", APP, "v1", ONE, null);
        tags.write("docker.io", APP, "v2", TWO, null);
        tags.write("docker.io", RepositoryName.parse("alpine"), "3", ONE, null);
        tags.write("127.0.0.1:5000", APP, "v1", ONE, null);
        assertEquals(List.of("127.0.0.1:5000", "docker.io"), tags.upstreams());
        assertEquals(List.of(RepositoryName.parse("alpine"), APP), tags.repositories("docker.io"));
        assertEquals(List.of("v1", "v2"), tags.tags("docker.io", APP));

        assertTrue(tags.remove("docker.io", APP, "v1"));
        assertFalse(tags.remove("docker.io", APP, "v1"), "already gone");
        assertEquals(List.of("v2"), tags.tags("docker.io", APP));
        assertTrue(tags.remove("docker.io", APP, "v2"));
        assertEquals(List.of(RepositoryName.parse("alpine")), tags.repositories("docker.io"),
                "a repository without tags leaves the listing");
        tags.removeRepository("docker.io", RepositoryName.parse("alpine"));
        assertEquals(List.of(), tags.repositories("docker.io"));
        assertEquals(Optional.of(new UpstreamTags.Tagged(ONE, null)), tags.read("127.0.0.1:5000", APP, "v1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "a/b", "", "docker.io/../x", "-x"})
    void upstreamName_notARegistryHost_rejected(String upstream) {
        assertFalse(UpstreamTags.isUpstreamName(upstream));
        assertThrows(IllegalArgumentException.class, () -> tags.read(upstream, APP, "v1"));
    }
}
