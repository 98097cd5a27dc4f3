package io.mirrorball.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class ManifestTest {
    private static final String D1 = "sha256:" + "1".repeat(64);
    private static final String D2 = "sha256:" + "2".repeat(64);
    private static final String D3 = "sha256:" + "3".repeat(64);
    private static final String SUBJECT = "sha256:" + "5".repeat(64);

    private static final String OCI = MediaTypes.OCI_MANIFEST;
    private static final String OCI_INDEX = MediaTypes.OCI_INDEX;
    private static final String DOCKER = MediaTypes.DOCKER_MANIFEST;
    private static final String DOCKER_LIST = MediaTypes.DOCKER_MANIFEST_LIST;

    private static String desc(String mediaType, String digest, long size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    private static String ociManifest() {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + OCI + "\",\"config\":" + desc(MediaTypes.OCI_CONFIG, D1, 123)
                + ",\"layers\":[" + desc(MediaTypes.OCI_LAYER_TAR_GZIP, D2, 1000) + ","
                + desc(MediaTypes.OCI_LAYER_TAR_GZIP, D3, 0) + "]}";
    }

    private static String ociIndex() {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":["
                + "{\"mediaType\":\"" + OCI + "\",\"digest\":\"" + D1 + "\",\"size\":500,"
                + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                + "{\"mediaType\":\"" + OCI + "\",\"digest\":\"" + D2 + "\",\"size\":501,"
                + "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}";
    }

    private static String dockerManifest() {
        return "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" + DOCKER + "\",\n   \"config\": "
                + desc(MediaTypes.DOCKER_CONFIG, D1, 1469) + ",\n   \"layers\": [\n      "
                + desc(MediaTypes.DOCKER_LAYER, D2, 2797612) + "\n   ]\n}";
    }

    private static String dockerList() {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + DOCKER_LIST + "\",\"manifests\":["
                + "{\"mediaType\":\"" + DOCKER + "\",\"digest\":\"" + D1 + "\",\"size\":528,"
                + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
    }

    private static String artifact() {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + OCI + "\",\"artifactType\":\"application/vnd.example.sbom.v1\","
                + "\"config\":" + desc(MediaTypes.OCI_EMPTY, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)
                + ",\"layers\":[" + desc("application/spdx+json", D2, 42) + "],"
                + "\"subject\":" + desc(OCI, SUBJECT, 321) + ","
                + "\"annotations\":{\"org.example.k\":\"v\",\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    static Stream<Arguments> validManifests() {
        String withoutMediaType = ociManifest().replace("\"mediaType\":\"" + OCI + "\",", "");
        String indexWithoutMediaType = ociIndex().replace("\"mediaType\":\"" + OCI_INDEX + "\",", "");
        return Stream.of(
                Arguments.of("oci manifest, Content-Type", ociManifest(), OCI, OCI, 2, 0),
                Arguments.of("oci manifest, no Content-Type", ociManifest(), null, OCI, 2, 0),
                Arguments.of("oci manifest, Content-Type with charset", ociManifest(), OCI + "; charset=utf-8", OCI, 2, 0),
                Arguments.of("oci manifest without mediaType, Content-Type", withoutMediaType, OCI, OCI, 2, 0),
                Arguments.of("oci manifest without mediaType or Content-Type", withoutMediaType, null, OCI, 2, 0),
                Arguments.of("oci index", ociIndex(), OCI_INDEX, OCI_INDEX, 0, 2),
                Arguments.of("oci index without mediaType, Content-Type", indexWithoutMediaType, OCI_INDEX, OCI_INDEX, 0, 2),
                Arguments.of("oci index without mediaType or Content-Type", indexWithoutMediaType, null, OCI_INDEX, 0, 2),
                Arguments.of("docker schema 2 manifest", dockerManifest(), DOCKER, DOCKER, 1, 0),
                Arguments.of("docker manifest list", dockerList(), DOCKER_LIST, DOCKER_LIST, 0, 1),
                Arguments.of("artifact with subject", artifact(), OCI, OCI, 1, 0),
                Arguments.of("manifest with no layers", ociManifest().replaceAll("\"layers\":\\[.*\\]", "\"layers\":[]"), OCI, OCI, 0, 0),
                Arguments.of("empty index", "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":[]}", OCI_INDEX, OCI_INDEX, 0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validManifests")
    void parse_valid_accepted(String label, String json, String contentType, String mediaType, int layers, int children) {
        Manifest manifest = Manifest.parse(bytes(json), contentType);

        assertEquals(mediaType, manifest.mediaType());
        assertEquals(layers, manifest.layers().size());
        assertEquals(children, manifest.manifests().size());
        assertEquals(MediaTypes.isIndex(mediaType), manifest.isIndex());
        if (manifest.isIndex()) {
            assertNull(manifest.config());
            assertTrue(manifest.blobs().isEmpty());
        } else {
            assertEquals(manifest.config(), manifest.blobs().get(0));
            assertEquals(layers + 1, manifest.blobs().size());
        }
    }

    @Test
    void parse_ociManifest_descriptorsInOrder() {
        Manifest manifest = Manifest.parse(bytes(ociManifest()), OCI);

        assertEquals(Descriptor.of(MediaTypes.OCI_CONFIG, Digest.parse(D1), 123), manifest.config());
        assertEquals(List.of(Digest.parse(D1), Digest.parse(D2), Digest.parse(D3)),
                manifest.blobs().stream().map(Descriptor::digest).toList());
        assertEquals(1000, manifest.layers().get(0).size());
        assertEquals(0, manifest.layers().get(1).size());
        assertNull(manifest.subject());
        assertEquals(MediaTypes.OCI_CONFIG, manifest.effectiveArtifactType());
    }

    @Test
    void parse_index_childrenInOrder() {
        Manifest manifest = Manifest.parse(bytes(ociIndex()), OCI_INDEX);

        assertEquals(List.of(Digest.parse(D1), Digest.parse(D2)),
                manifest.manifests().stream().map(Descriptor::digest).toList());
        assertEquals(OCI, manifest.manifests().get(0).mediaType());
        assertEquals(501, manifest.manifests().get(1).size());
    }

    @Test
    void parse_artifact_subjectArtifactTypeAnnotations() {
        Manifest manifest = Manifest.parse(bytes(artifact()), OCI);

        assertEquals(Digest.parse(SUBJECT), manifest.subject().digest());
        assertEquals(321, manifest.subject().size());
        assertEquals("application/vnd.example.sbom.v1", manifest.artifactType());
        assertEquals("application/vnd.example.sbom.v1", manifest.effectiveArtifactType());
        assertEquals(Map.of("org.example.k", "v", "org.opencontainers.image.created", "2024-01-01T00:00:00Z"),
                manifest.annotations());
    }

    static Stream<Arguments> invalidManifests() {
        String oci = ociManifest();
        return Stream.of(
                Arguments.of("missing config", oci.replaceFirst("\"config\":\\{[^}]*\\},", ""), OCI),
                Arguments.of("config not an object", oci.replaceFirst("\"config\":\\{[^}]*\\}", "\"config\":\"x\""), OCI),
                Arguments.of("bad descriptor digest", oci.replace(D2, "sha256:abc"), OCI),
                Arguments.of("upper-case descriptor digest", oci.replace(D2, D2.replace("sha256", "SHA256")), OCI),
                Arguments.of("unknown digest algorithm", oci.replace(D2, "md5:d41d8cd98f00b204e9800998ecf8427e"), OCI),
                Arguments.of("missing digest", oci.replace("\"digest\":\"" + D2 + "\",", ""), OCI),
                Arguments.of("negative size", oci.replace("\"size\":1000", "\"size\":-1"), OCI),
                Arguments.of("fractional size", oci.replace("\"size\":1000", "\"size\":1.5"), OCI),
                Arguments.of("size as a string", oci.replace("\"size\":1000", "\"size\":\"1000\""), OCI),
                Arguments.of("size beyond long", oci.replace("\"size\":1000", "\"size\":1e30"), OCI),
                Arguments.of("missing size", oci.replace(",\"size\":1000", ""), OCI),
                Arguments.of("descriptor without mediaType", oci.replace("\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",", ""), OCI),
                Arguments.of("layers not an array", oci.replaceAll("\"layers\":\\[.*\\]", "\"layers\":{}"), OCI),
                Arguments.of("layer not an object", oci.replaceAll("\"layers\":\\[.*\\]", "\"layers\":[1]"), OCI),
                Arguments.of("mediaType vs Content-Type", oci, DOCKER),
                Arguments.of("index mediaType vs Content-Type", ociIndex(), DOCKER_LIST),
                Arguments.of("docker list vs OCI index Content-Type", dockerList(), OCI_INDEX),
                Arguments.of("manifest body, index Content-Type", oci, OCI_INDEX),
                Arguments.of("schemaVersion 1", oci.replace("\"schemaVersion\":2", "\"schemaVersion\":1"), OCI),
                Arguments.of("schemaVersion 3", oci.replace("\"schemaVersion\":2", "\"schemaVersion\":3"), OCI),
                Arguments.of("schemaVersion string", oci.replace("\"schemaVersion\":2", "\"schemaVersion\":\"2\""), OCI),
                Arguments.of("schemaVersion missing", oci.replace("\"schemaVersion\":2,", ""), OCI),
                Arguments.of("docker schema 1", "{\"schemaVersion\":1,\"name\":\"a\",\"tag\":\"t\",\"architecture\":\"amd64\","
                        + "\"fsLayers\":[],\"history\":[]}", "application/vnd.docker.distribution.manifest.v1+prettyjws"),
                Arguments.of("unsupported mediaType", oci.replace("\"mediaType\":\"" + OCI + "\"", "\"mediaType\":\"application/json\""), null),
                Arguments.of("mediaType not a string", oci.replace("\"mediaType\":\"" + OCI + "\"", "\"mediaType\":7"), null),
                Arguments.of("index with config", ociIndex().replace("\"manifests\":[", "\"config\":" + desc(MediaTypes.OCI_CONFIG, D1, 1) + ",\"manifests\":["), OCI_INDEX),
                Arguments.of("index with layers", ociIndex().replace("\"manifests\":[", "\"layers\":[],\"manifests\":["), OCI_INDEX),
                Arguments.of("index manifests not an array", "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":{}}", OCI_INDEX),
                Arguments.of("index child with bad digest", ociIndex().replace(D1, "sha256:zz"), OCI_INDEX),
                Arguments.of("manifest with manifests list", oci.replace("\"layers\":", "\"manifests\":[],\"layers\":"), OCI),
                Arguments.of("annotation value not a string", oci.replace("\"layers\":", "\"annotations\":{\"a\":1},\"layers\":"), OCI),
                Arguments.of("annotations not an object", oci.replace("\"layers\":", "\"annotations\":[],\"layers\":"), OCI),
                Arguments.of("subject not an object", oci.replace("\"layers\":", "\"subject\":\"" + SUBJECT + "\",\"layers\":"), OCI),
                Arguments.of("subject with bad digest", artifact().replace(SUBJECT, "sha256:1234"), OCI),
                Arguments.of("artifactType not a string", artifact().replace("\"application/vnd.example.sbom.v1\"", "true"), OCI),
                Arguments.of("not JSON", "this is not json", OCI),
                Arguments.of("truncated JSON", oci.substring(0, oci.length() - 3), OCI),
                Arguments.of("trailing garbage", oci + "}", OCI),
                Arguments.of("two concatenated documents", oci + oci, OCI),
                Arguments.of("JSON array", "[" + oci + "]", OCI),
                Arguments.of("JSON string", "\"manifest\"", OCI),
                Arguments.of("JSON null", "null", OCI),
                Arguments.of("empty body", "", OCI),
                Arguments.of("whitespace body", "  \n ", OCI));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void parse_invalid_manifestInvalid(String label, String json, String contentType) {
        OciException e = assertThrows(OciException.class, () -> Manifest.parse(bytes(json), contentType));

        assertEquals(OciErrorCode.MANIFEST_INVALID, e.code(), e.getMessage());
        assertEquals(400, e.code().status());
    }

    /** Pads a valid manifest with an annotation until it is exactly {@code size} bytes. */
    private static byte[] padded(int size) {
        String head = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI + "\",\"config\":" + desc(MediaTypes.OCI_CONFIG, D1, 1)
                + ",\"layers\":[],\"annotations\":{\"pad\":\"";
        String tail = "\"}}";
        return bytes(head + "x".repeat(size - head.length() - tail.length()) + tail);
    }

    @Test
    void parse_exactly4MiB_accepted() {
        byte[] content = padded(Manifest.MAX_BYTES);

        Manifest manifest = Manifest.parse(content, OCI);

        assertEquals(4 * 1024 * 1024, content.length);
        assertEquals(OCI, manifest.mediaType());
    }

    @Test
    void parse_4MiBPlusOne_manifestTooLarge() {
        byte[] content = padded(Manifest.MAX_BYTES + 1);

        OciException e = assertThrows(OciException.class, () -> Manifest.parse(content, OCI));

        assertEquals(OciErrorCode.MANIFEST_TOO_LARGE, e.code());
        assertEquals(413, e.code().status());
    }

    @Test
    void parse_over4MiBNotJson_manifestTooLargeBeforeParsing() {
        byte[] content = new byte[Manifest.MAX_BYTES + 100];

        OciException e = assertThrows(OciException.class, () -> Manifest.parse(content, null));

        assertEquals(OciErrorCode.MANIFEST_TOO_LARGE, e.code());
    }

    @Test
    void descriptor_negativeSize_manifestInvalid() {
        OciException e = assertThrows(OciException.class,
                () -> Descriptor.of(MediaTypes.OCI_CONFIG, Digest.parse(D1), -1));

        assertEquals(OciErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void parse_unknownContentTypeWithoutMediaType_infersFromBody() {
        String index = ociIndex().replace("\"mediaType\":\"" + OCI_INDEX + "\",", "");

        Manifest manifest = Manifest.parse(bytes(index), "application/json");

        assertEquals(OCI_INDEX, manifest.mediaType());
        assertFalse(manifest.manifests().isEmpty());
    }

    /** Issue 9: a manifest starting with a UTF-8 byte order mark was accepted; so were UTF-16 and invalid UTF-8. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"efbbbf", "feff", "fffe", "00", "c3", "ff"})
    void parse_notPlainUtf8_manifestInvalid(String prefixHex) {
        byte[] prefix = java.util.HexFormat.of().parseHex(prefixHex);
        byte[] json = bytes(ociManifest());
        byte[] content = java.util.Arrays.copyOf(prefix, prefix.length + json.length);
        System.arraycopy(json, 0, content, prefix.length, json.length);

        OciException e = assertThrows(OciException.class, () -> Manifest.parse(content, OCI));

        assertEquals(OciErrorCode.MANIFEST_INVALID, e.code());
    }

    @Test
    void parse_utf16WithoutBom_manifestInvalid() {
        byte[] content = ociManifest().getBytes(StandardCharsets.UTF_16LE);

        assertThrows(OciException.class, () -> Manifest.parse(content, OCI));
    }

    @Test
    void parse_layerWithUrls_foreign() {
        String json = ociManifest().replace("\"size\":1000}", "\"size\":1000,\"urls\":[\"https://example.com/l\"]}");

        Manifest manifest = Manifest.parse(bytes(json), OCI);

        assertTrue(manifest.layers().get(0).isForeign());
        assertEquals(List.of("https://example.com/l"), manifest.layers().get(0).urls());
        assertFalse(manifest.layers().get(1).isForeign());
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"\"https://x\"", "[1]", "[\"file:///etc/passwd\"]", "[\"relative\"]",
            "[\"ipfs://bafkreiabc/x\"]", "[\"ipfs://../ipns/x\"]", "[\"ipns://k51abc\"]"})
    void parse_invalidUrls_manifestInvalid(String urls) {
        String json = ociManifest().replace("\"size\":1000}", "\"size\":1000,\"urls\":" + urls + "}");

        OciException e = assertThrows(OciException.class, () -> Manifest.parse(bytes(json), OCI));

        assertEquals(OciErrorCode.MANIFEST_INVALID, e.code());
    }

    /** nerdctl's images name each blob's CID (docs/formats.md). */
    @Test
    void parse_ipfsUrl_kept() {
        String json = ociManifest().replace("\"size\":1000}", "\"size\":1000,\"urls\":[\"ipfs://bafkreiabc\"]}");

        assertEquals(List.of("ipfs://bafkreiabc"), Manifest.parse(bytes(json), OCI).layers().get(0).urls());
    }

    /** Issue 9: the pushed Content-Type of a Docker manifest without a mediaType field must be kept. */
    @Test
    void mediaTypeToRemember_onlyWhenTheBytesDoNotSayIt() {
        String untypedDocker = dockerManifest().replace("\"mediaType\": \"" + DOCKER + "\",", "");
        String untypedList = dockerList().replace("\"mediaType\":\"" + DOCKER_LIST + "\",", "");

        assertEquals(DOCKER, Manifest.parse(bytes(untypedDocker), DOCKER).mediaTypeToRemember());
        assertEquals(DOCKER_LIST, Manifest.parse(bytes(untypedList), DOCKER_LIST).mediaTypeToRemember());
        assertNull(Manifest.parse(bytes(untypedDocker), OCI).mediaTypeToRemember());
        assertNull(Manifest.parse(bytes(untypedDocker), null).mediaTypeToRemember());
        assertNull(Manifest.parse(bytes(dockerManifest()), DOCKER).mediaTypeToRemember());
        assertEquals(OCI, Manifest.parse(bytes(untypedDocker), null).mediaType());
    }
}
