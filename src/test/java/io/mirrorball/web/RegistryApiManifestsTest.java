package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.describe;
import static io.mirrorball.web.RegistryClient.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.MediaTypes;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Manifests and indexes: PUT, GET, HEAD, DELETE by tag and digest (distribution-spec v1.1 end-3, end-7, end-9). */
final class RegistryApiManifestsTest {
    @TempDir
    Path tmp;
    private TestGateway gateway;
    private RegistryClient client;

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp);
        client = gateway.client();
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    /** Pushes the image's blobs, then (for an index) its children, and returns the top manifest. */
    private TestImages.Image prepare(String repo, String kind) {
        switch (kind) {
            case "oci-manifest", "docker-manifest" -> {
                TestImages.Image image = kind.equals("oci-manifest") ? TestImages.ociImage(2) : TestImages.dockerImage(2);
                image.blobs().forEach(b -> client.pushBlob(repo, b.content()));
                return image;
            }
            case "oci-index", "docker-list" -> {
                boolean oci = kind.equals("oci-index");
                List<TestImages.Image> children = List.of(
                        oci ? TestImages.ociImage(1) : TestImages.dockerImage(1),
                        oci ? TestImages.ociImage(2) : TestImages.dockerImage(2));
                for (TestImages.Image child : children) {
                    child.blobs().forEach(b -> client.pushBlob(repo, b.content()));
                    client.pushManifest(repo, child.digest(), child.manifest(), child.mediaType());
                }
                return TestImages.index(oci ? MediaTypes.OCI_INDEX : MediaTypes.DOCKER_MANIFEST_LIST, children);
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    static Stream<String> kinds() {
        return Stream.of("oci-manifest", "oci-index", "docker-manifest", "docker-list");
    }

    private void assertManifestResponse(HttpResponse<byte[]> r, TestImages.Image image, boolean head) {
        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(image.mediaType(), header(r, "Content-Type"), "Content-Type is the manifest's media type");
        assertEquals(image.digest(), header(r, "Docker-Content-Digest"));
        assertEquals(String.valueOf(image.size()), header(r, "Content-Length"));
        if (head) {
            assertEquals(0, r.body().length);
        } else {
            assertArrayEquals(image.manifest(), r.body(), "GET returns the bytes that were PUT");
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void putByTag_getAndHeadByTagAndDigest(String kind) {
        String repo = "mf/" + kind;
        TestImages.Image image = prepare(repo, kind);

        HttpResponse<byte[]> put = client.put("/v2/" + repo + "/manifests/v1", image.manifest(), image.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(image.digest(), header(put, "Docker-Content-Digest"));
        String location = client.pathOf(header(put, "Location"));
        assertTrue(location.startsWith("/v2/" + repo + "/manifests/"), "Location " + location);
        assertManifestResponse(client.get(location), image, false);
        assertManifestResponse(client.get("/v2/" + repo + "/manifests/v1"), image, false);
        assertManifestResponse(client.get("/v2/" + repo + "/manifests/" + image.digest()), image, false);
        assertManifestResponse(client.head("/v2/" + repo + "/manifests/v1"), image, true);
        assertManifestResponse(client.head("/v2/" + repo + "/manifests/" + image.digest()), image, true);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void putByDigest_getByDigest(String kind) {
        String repo = "mfd/" + kind;
        TestImages.Image image = prepare(repo, kind);

        HttpResponse<byte[]> put = client.put("/v2/" + repo + "/manifests/" + image.digest(), image.manifest(),
                image.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(image.digest(), header(put, "Docker-Content-Digest"));
        assertEquals("/v2/" + repo + "/manifests/" + image.digest(), client.pathOf(header(put, "Location")));
        assertManifestResponse(client.get("/v2/" + repo + "/manifests/" + image.digest()), image, false);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void deleteByDigest_202Then404(String kind) {
        String repo = "mfdel/" + kind;
        TestImages.Image image = prepare(repo, kind);
        client.pushManifest(repo, "gone", image.manifest(), image.mediaType());

        HttpResponse<byte[]> r = client.delete("/v2/" + repo + "/manifests/" + image.digest());

        assertEquals(202, r.statusCode(), describe(r));
        assertOciError(client.get("/v2/" + repo + "/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
        assertEquals(404, client.head("/v2/" + repo + "/manifests/" + image.digest()).statusCode());
        assertEquals(404, client.get("/v2/" + repo + "/manifests/gone").statusCode(),
                "a tag of a deleted manifest does not resolve any more");
        assertOciError(client.delete("/v2/" + repo + "/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void deleteByTag_202TagGoneManifestStays() {
        TestImages.Image image = prepare("mf/deltag", "oci-manifest");
        client.pushManifest("mf/deltag", "t1", image.manifest(), image.mediaType());
        client.pushManifest("mf/deltag", "t2", image.manifest(), image.mediaType());

        HttpResponse<byte[]> r = client.delete("/v2/mf/deltag/manifests/t1");

        assertEquals(202, r.statusCode(), describe(r));
        assertOciError(client.get("/v2/mf/deltag/manifests/t1"), 404, "MANIFEST_UNKNOWN");
        assertManifestResponse(client.get("/v2/mf/deltag/manifests/t2"), image, false);
        assertManifestResponse(client.get("/v2/mf/deltag/manifests/" + image.digest()), image, false);
        JsonNode tags = RegistryClient.json(client.get("/v2/mf/deltag/tags/list")).get("tags");
        assertEquals("[\"t2\"]", tags.toString());
    }

    /** Everything lives in IPFS: a new gateway on the same MFS root serves it all, with cold caches. */
    @Test
    void restart_sameStorage_everythingStillServed() throws Exception {
        TestImages.Image index = prepare("mf/persist", "oci-index");
        client.pushManifest("mf/persist", "multi", index.manifest(), index.mediaType());
        TestImages.Image image = prepare("mf/persist", "docker-manifest");
        client.pushManifest("mf/persist", "single", image.manifest(), image.mediaType());

        gateway = gateway.restart();
        client = gateway.client();

        assertManifestResponse(client.get("/v2/mf/persist/manifests/multi"), index, false);
        assertManifestResponse(client.head("/v2/mf/persist/manifests/" + index.digest()), index, true);
        assertManifestResponse(client.get("/v2/mf/persist/manifests/single"), image, false);
        for (TestImages.Blob blob : image.blobs()) {
            HttpResponse<byte[]> r = client.get("/v2/mf/persist/blobs/" + blob.digest());
            assertEquals(200, r.statusCode(), describe(r));
            assertArrayEquals(blob.content(), r.body());
        }
        assertEquals("[\"multi\",\"single\"]",
                RegistryClient.json(client.get("/v2/mf/persist/tags/list")).get("tags").toString());
    }

    @Test
    void put_sameTagTwice_tagMovesToNewManifest() {
        TestImages.Image first = prepare("mf/retag", "oci-manifest");
        TestImages.Image second = prepare("mf/retag", "oci-manifest");
        client.pushManifest("mf/retag", "latest", first.manifest(), first.mediaType());

        client.pushManifest("mf/retag", "latest", second.manifest(), second.mediaType());

        assertManifestResponse(client.get("/v2/mf/retag/manifests/latest"), second, false);
        assertManifestResponse(client.get("/v2/mf/retag/manifests/" + first.digest()), first, false);
    }

    @Test
    void put_sameManifestTwice_idempotent201() {
        TestImages.Image image = prepare("mf/again", "oci-manifest");
        client.pushManifest("mf/again", "v1", image.manifest(), image.mediaType());

        HttpResponse<byte[]> r = client.put("/v2/mf/again/manifests/v1", image.manifest(), image.mediaType());

        assertEquals(201, r.statusCode(), describe(r));
        assertManifestResponse(client.get("/v2/mf/again/manifests/v1"), image, false);
    }

    @Test
    void put_concurrentTags_allListed() throws Exception {
        TestImages.Image image = prepare("mf/parallel", "oci-manifest");
        List<String> tags = List.of("p1", "p2", "p3", "p4", "p5", "p6");
        ExecutorService pool = Executors.newFixedThreadPool(tags.size(), r -> new Thread(r, "apitest-tag"));
        try {
            List<Future<HttpResponse<byte[]>>> results = new ArrayList<>();
            for (String tag : tags) {
                results.add(pool.submit(() -> client.put("/v2/mf/parallel/manifests/" + tag, image.manifest(),
                        image.mediaType())));
            }
            for (Future<HttpResponse<byte[]>> result : results) {
                HttpResponse<byte[]> r = result.get(120, TimeUnit.SECONDS);
                assertEquals(201, r.statusCode(), describe(r));
            }
        } finally {
            pool.shutdownNow();
        }

        JsonNode listed = RegistryClient.json(client.get("/v2/mf/parallel/tags/list")).get("tags");
        assertEquals(tags.toString().replace(" ", ""), listed.toString().replace("\"", ""));
        for (String tag : tags) {
            assertManifestResponse(client.get("/v2/mf/parallel/manifests/" + tag), image, false);
        }
    }

    @Test
    void get_acceptEncodingGzip_bytesUnchanged() {
        TestImages.Image image = prepare("mf/gzip", "oci-manifest");
        client.pushManifest("mf/gzip", "v1", image.manifest(), image.mediaType());

        HttpResponse<byte[]> r = client.get("/v2/mf/gzip/manifests/v1", "Accept-Encoding", "gzip");

        assertTrue(header(r, "Content-Encoding") == null || header(r, "Content-Encoding").equals("identity"), describe(r));
        assertManifestResponse(r, image, false);
    }

    @Test
    void put_manifestWithContentTypeCharset_storedWithBareMediaType() {
        TestImages.Image image = prepare("mf/charset", "oci-manifest");

        HttpResponse<byte[]> r = client.put("/v2/mf/charset/manifests/v1", image.manifest(),
                image.mediaType() + "; charset=utf-8");

        assertEquals(201, r.statusCode(), describe(r));
        assertManifestResponse(client.get("/v2/mf/charset/manifests/v1"), image, false);
    }

    @Test
    void put_namespacedRepository_works() {
        String repo = "org/team/app/component";
        TestImages.Image image = prepare(repo, "oci-manifest");

        client.pushManifest(repo, "v1", image.manifest(), image.mediaType());

        assertManifestResponse(client.get("/v2/" + repo + "/manifests/v1"), image, false);
    }

    @Test
    void put_missingLayer_400ManifestBlobUnknown() {
        TestImages.Image image = TestImages.ociImage(2);
        client.pushBlob("mf/missing", image.blobs().get(0).content());
        client.pushBlob("mf/missing", image.blobs().get(1).content());   // the second layer is never pushed

        assertOciError(client.put("/v2/mf/missing/manifests/v1", image.manifest(), image.mediaType()),
                400, "MANIFEST_BLOB_UNKNOWN");

        assertOciError(client.get("/v2/mf/missing/manifests/v1"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void put_missingConfig_400ManifestBlobUnknown() {
        TestImages.Image image = TestImages.dockerImage(1);
        client.pushBlob("mf/noconfig", image.blobs().get(1).content());

        assertOciError(client.put("/v2/mf/noconfig/manifests/v1", image.manifest(), image.mediaType()),
                400, "MANIFEST_BLOB_UNKNOWN");
    }

    @Test
    void put_blobOnlyInOtherRepository_400ManifestBlobUnknown() {
        TestImages.Image image = TestImages.ociImage(1);
        image.blobs().forEach(b -> client.pushBlob("mf/elsewhere", b.content()));

        assertOciError(client.put("/v2/mf/here/manifests/v1", image.manifest(), image.mediaType()),
                400, "MANIFEST_BLOB_UNKNOWN");
    }

    @ParameterizedTest
    @ValueSource(strings = {MediaTypes.OCI_INDEX, MediaTypes.DOCKER_MANIFEST_LIST})
    void put_indexWithMissingChild_400ManifestBlobUnknown(String mediaType) {
        String childType = mediaType.equals(MediaTypes.OCI_INDEX) ? MediaTypes.OCI_MANIFEST : MediaTypes.DOCKER_MANIFEST;
        TestImages.Image present = childType.equals(MediaTypes.OCI_MANIFEST) ? TestImages.ociImage(1) : TestImages.dockerImage(1);
        TestImages.Image absent = childType.equals(MediaTypes.OCI_MANIFEST) ? TestImages.ociImage(1) : TestImages.dockerImage(1);
        present.blobs().forEach(b -> client.pushBlob("mf/idxmissing", b.content()));
        absent.blobs().forEach(b -> client.pushBlob("mf/idxmissing", b.content()));
        client.pushManifest("mf/idxmissing", present.digest(), present.manifest(), present.mediaType());
        TestImages.Image index = TestImages.index(mediaType, List.of(present, absent));

        assertOciError(client.put("/v2/mf/idxmissing/manifests/multi", index.manifest(), mediaType),
                400, "MANIFEST_BLOB_UNKNOWN");
    }

    @Test
    void put_indexWithChildOnlyInOtherRepository_400ManifestBlobUnknown() {
        TestImages.Image child = TestImages.ociImage(1);
        child.blobs().forEach(b -> client.pushBlob("mf/child-home", b.content()));
        client.pushManifest("mf/child-home", child.digest(), child.manifest(), child.mediaType());
        TestImages.Image index = TestImages.index(MediaTypes.OCI_INDEX, List.of(child));

        assertOciError(client.put("/v2/mf/child-away/manifests/multi", index.manifest(), MediaTypes.OCI_INDEX),
                400, "MANIFEST_BLOB_UNKNOWN");
    }

    @Test
    void put_indexWithChildAsBlobOnly_400ManifestBlobUnknown() {
        TestImages.Image child = TestImages.ociImage(1);
        child.blobs().forEach(b -> client.pushBlob("mf/idxblob", b.content()));
        client.pushBlob("mf/idxblob", child.manifest());       // the child's bytes as a blob, not as a manifest
        TestImages.Image index = TestImages.index(MediaTypes.OCI_INDEX, List.of(child));

        HttpResponse<byte[]> r = client.put("/v2/mf/idxblob/manifests/multi", index.manifest(), MediaTypes.OCI_INDEX);

        // distribution accepts a child that exists only as a blob; both outcomes are tolerated, never a 5xx
        assertTrue(r.statusCode() == 201 || r.statusCode() == 400, describe(r));
        if (r.statusCode() == 400) {
            assertOciError(r, 400, "MANIFEST_BLOB_UNKNOWN");
        }
    }

    @Test
    void put_nestedIndex_201() {
        TestImages.Image child = prepare("mf/nested", "oci-index");
        client.pushManifest("mf/nested", child.digest(), child.manifest(), child.mediaType());
        TestImages.Image outer = TestImages.index(MediaTypes.OCI_INDEX, List.of(child));

        client.pushManifest("mf/nested", "outer", outer.manifest(), outer.mediaType());

        assertManifestResponse(client.get("/v2/mf/nested/manifests/outer"), outer, false);
    }

    @Test
    void putByDigest_mismatch_400DigestInvalid() {
        TestImages.Image image = prepare("mf/mismatch", "oci-manifest");
        String other = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        assertOciError(client.put("/v2/mf/mismatch/manifests/" + other, image.manifest(), image.mediaType()),
                400, "DIGEST_INVALID");
        assertEquals(404, client.get("/v2/mf/mismatch/manifests/" + other).statusCode());
        assertEquals(404, client.get("/v2/mf/mismatch/manifests/" + image.digest()).statusCode());
    }

    static Stream<Arguments> invalidManifests() {
        String ociHead = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\"";
        return Stream.of(
                Arguments.of("not JSON", "this is not json", MediaTypes.OCI_MANIFEST),
                Arguments.of("truncated", ociHead + ",\"config\":{", MediaTypes.OCI_MANIFEST),
                Arguments.of("JSON array", "[1,2,3]", MediaTypes.OCI_MANIFEST),
                Arguments.of("empty body", "", MediaTypes.OCI_MANIFEST),
                Arguments.of("schemaVersion 1", "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}",
                        "application/vnd.docker.distribution.manifest.v1+prettyjws"),
                Arguments.of("missing config", ociHead + ",\"layers\":[]}", MediaTypes.OCI_MANIFEST),
                Arguments.of("bad descriptor digest", ociHead + ",\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                        + "\",\"digest\":\"sha256:abc\",\"size\":2},\"layers\":[]}", MediaTypes.OCI_MANIFEST),
                Arguments.of("negative size", ociHead + ",\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                        + "\",\"digest\":\"" + TestImages.EMPTY_JSON_DIGEST + "\",\"size\":-2},\"layers\":[]}", MediaTypes.OCI_MANIFEST),
                Arguments.of("mediaType vs Content-Type", ociHead + ",\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                        + "\",\"digest\":\"" + TestImages.EMPTY_JSON_DIGEST + "\",\"size\":2},\"layers\":[]}", MediaTypes.DOCKER_MANIFEST),
                Arguments.of("index with config", "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
                        + "\",\"config\":{},\"manifests\":[]}", MediaTypes.OCI_INDEX));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void put_invalidManifest_400ManifestInvalid(String label, String body, String contentType) {
        HttpResponse<byte[]> r = client.put("/v2/mf/invalid/manifests/v1", body.getBytes(StandardCharsets.UTF_8), contentType);

        assertOciError(r, 400, "MANIFEST_INVALID");
        assertEquals(404, client.get("/v2/mf/invalid/manifests/v1").statusCode());
    }

    /** A valid manifest padded with an annotation to exactly {@code size} bytes; its config is pushed. */
    private byte[] paddedManifest(String repo, int size) {
        client.pushBlob(repo, "{}".getBytes(StandardCharsets.UTF_8));
        String head = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
                + MediaTypes.OCI_EMPTY + "\",\"digest\":\"" + TestImages.EMPTY_JSON_DIGEST + "\",\"size\":2},"
                + "\"layers\":[],\"annotations\":{\"pad\":\"";
        String tail = "\"}}";
        return (head + "x".repeat(size - head.length() - tail.length()) + tail).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void put_exactly4MiB_201() {
        byte[] manifest = paddedManifest("mf/big", 4 * 1024 * 1024);

        String digest = client.pushManifest("mf/big", "v1", manifest, MediaTypes.OCI_MANIFEST);

        HttpResponse<byte[]> r = client.get("/v2/mf/big/manifests/" + digest);
        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(manifest, r.body());
    }

    @Test
    void put_4MiBPlusOne_413() {
        byte[] manifest = paddedManifest("mf/toobig", 4 * 1024 * 1024 + 1);

        HttpResponse<byte[]> r = client.put("/v2/mf/toobig/manifests/v1", manifest, MediaTypes.OCI_MANIFEST);

        assertEquals(413, r.statusCode(), describe(r));
        RegistryClient.assertErrorBody(r);
        assertEquals(404, client.get("/v2/mf/toobig/manifests/v1").statusCode());
    }

    @Test
    void get_unknownTag_404ManifestUnknown() {
        TestImages.Image image = prepare("mf/unknown", "oci-manifest");
        client.pushManifest("mf/unknown", "v1", image.manifest(), image.mediaType());

        assertOciError(client.get("/v2/mf/unknown/manifests/nope"), 404, "MANIFEST_UNKNOWN");
        assertOciError(client.get("/v2/mf/unknown/manifests/" + RegistryClient.digestOf(new byte[3])), 404, "MANIFEST_UNKNOWN");
        HttpResponse<byte[]> head = client.head("/v2/mf/unknown/manifests/nope");
        assertEquals(404, head.statusCode(), describe(head));
        assertEquals(0, head.body().length);
        assertOciError(client.delete("/v2/mf/unknown/manifests/nope"), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void get_unknownRepository_404() {
        HttpResponse<byte[]> r = client.get("/v2/mf/never-pushed/manifests/latest");

        JsonNode error = assertOciError(r, 404, null);
        assertTrue(List.of("MANIFEST_UNKNOWN", "NAME_UNKNOWN").contains(error.get("code").asText()), describe(r));
    }

    @Test
    void get_manifestFromOtherRepository_404() {
        TestImages.Image image = prepare("mf/iso-a", "oci-manifest");
        client.pushManifest("mf/iso-a", "v1", image.manifest(), image.mediaType());
        prepare("mf/iso-b", "oci-manifest");

        assertEquals(404, client.get("/v2/mf/iso-b/manifests/" + image.digest()).statusCode());
        assertEquals(404, client.get("/v2/mf/iso-b/manifests/v1").statusCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:abc", "sha256:ZZZZ", "md5:d41d8cd98f00b204e9800998ecf8427e"})
    void get_badDigestReference_400DigestInvalid(String reference) {
        assertOciError(client.get("/v2/mf/baddigest/manifests/" + reference), 400, "DIGEST_INVALID");
    }

    @Test
    void put_tagTooLong_4xxNoServerError() {
        TestImages.Image image = prepare("mf/longtag", "oci-manifest");
        String tag = "t".repeat(129);

        HttpResponse<byte[]> r = client.put("/v2/mf/longtag/manifests/" + tag, image.manifest(), image.mediaType());

        assertTrue(r.statusCode() == 400 || r.statusCode() == 404, describe(r));
        RegistryClient.assertErrorBody(r);
        String ok = "t".repeat(128);
        assertEquals(201, client.put("/v2/mf/longtag/manifests/" + ok, image.manifest(), image.mediaType()).statusCode());
        assertManifestResponse(client.get("/v2/mf/longtag/manifests/" + ok), image, false);
    }

    @Test
    void get_acceptHeaderIrrelevant_storedMediaType() {
        TestImages.Image image = prepare("mf/accept", "docker-manifest");
        client.pushManifest("mf/accept", "v1", image.manifest(), image.mediaType());

        HttpResponse<byte[]> r = client.get("/v2/mf/accept/manifests/v1", "Accept",
                MediaTypes.OCI_MANIFEST + ", " + MediaTypes.DOCKER_MANIFEST + ", " + MediaTypes.OCI_INDEX);

        assertManifestResponse(r, image, false);
    }

    // ---- issue 9: wrong answers and the rest of the spec ---------------------------------------

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Issue 9: a manifest starting with a UTF-8 BOM was stored (201) and then broke clients. */
    @ParameterizedTest
    @ValueSource(strings = {"efbbbf", "feff", "fffe"})
    void put_byteOrderMark_400ManifestInvalid(String bomHex) {
        TestImages.Image image = prepare("mf/bom", "oci-manifest");
        byte[] withBom = concat(java.util.HexFormat.of().parseHex(bomHex), image.manifest());

        assertOciError(client.put("/v2/mf/bom/manifests/v1", withBom, image.mediaType()), 400, "MANIFEST_INVALID");
        assertOciError(client.put("/v2/mf/bom/manifests/" + RegistryClient.digestOf(withBom), withBom,
                image.mediaType()), 400, "MANIFEST_INVALID");
        assertEquals(404, client.get("/v2/mf/bom/manifests/" + RegistryClient.digestOf(withBom)).statusCode());
    }

    /** A manifest whose config, layers and subject are given with explicit sizes. */
    private static byte[] manifestWithSizes(TestImages.Blob config, long configSize, List<TestImages.Blob> layers,
                                            List<Long> layerSizes, String extraFields) {
        StringBuilder json = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",").append(extraFields).append("\"config\":")
                .append(TestImages.descriptor(config.mediaType(), config.digest(), configSize)).append(",\"layers\":[");
        for (int i = 0; i < layers.size(); i++) {
            json.append(i == 0 ? "" : ",").append(TestImages.descriptor(layers.get(i).mediaType(),
                    layers.get(i).digest(), layerSizes.get(i)));
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Issue 9: a layer descriptor whose size differed from the stored blob's was accepted; so were config and children. */
    @Test
    void put_descriptorSizeDiffersFromContent_400ManifestInvalid() {
        TestImages.Image image = prepare("mf/size", "oci-manifest");
        TestImages.Blob config = image.blobs().get(0);
        List<TestImages.Blob> layers = image.blobs().subList(1, image.blobs().size());
        List<Long> sizes = layers.stream().map(TestImages.Blob::size).toList();

        byte[] badLayer = manifestWithSizes(config, config.size(), layers, List.of(sizes.get(0), sizes.get(1) + 1), "");
        byte[] badConfig = manifestWithSizes(config, config.size() - 1, layers, sizes, "");
        byte[] good = manifestWithSizes(config, config.size(), layers, sizes, "");
        assertOciError(client.put("/v2/mf/size/manifests/bad-layer", badLayer, MediaTypes.OCI_MANIFEST), 400,
                "MANIFEST_INVALID");
        assertOciError(client.put("/v2/mf/size/manifests/bad-config", badConfig, MediaTypes.OCI_MANIFEST), 400,
                "MANIFEST_INVALID");
        String goodDigest = client.pushManifest("mf/size", "good", good, MediaTypes.OCI_MANIFEST);

        String badChild = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
                + TestImages.descriptor(MediaTypes.OCI_MANIFEST, goodDigest, good.length + 10) + "]}";
        assertOciError(client.put("/v2/mf/size/manifests/bad-index", badChild.getBytes(StandardCharsets.UTF_8),
                MediaTypes.OCI_INDEX), 400, "MANIFEST_INVALID");

        String badSubject = "\"subject\":" + TestImages.descriptor(MediaTypes.OCI_MANIFEST, goodDigest, 3) + ",";
        assertOciError(client.put("/v2/mf/size/manifests/bad-subject", manifestWithSizes(config, config.size(), layers,
                sizes, badSubject), MediaTypes.OCI_MANIFEST), 400, "MANIFEST_INVALID");
        String goodSubject = "\"subject\":" + TestImages.descriptor(MediaTypes.OCI_MANIFEST, goodDigest, good.length)
                + ",";
        assertEquals(201, client.put("/v2/mf/size/manifests/good-subject", manifestWithSizes(config, config.size(),
                layers, sizes, goodSubject), MediaTypes.OCI_MANIFEST).statusCode());
        assertEquals(404, client.get("/v2/mf/size/manifests/bad-layer").statusCode());
    }

    /**
     * Issue 9: a Docker schema 2 manifest without a mediaType field, pushed with its Content-Type, was served
     * back as OCI; it must keep its media type after a restart and in its published image too.
     */
    @Test
    void put_dockerManifestWithoutMediaTypeField_servedAsDockerAlsoAfterRestart() throws Exception {
        TestImages.Image docker = prepare("mf/untyped", "docker-manifest");
        byte[] untyped = docker.text().replace("\"mediaType\": \"" + MediaTypes.DOCKER_MANIFEST + "\",\n", "")
                .getBytes(StandardCharsets.UTF_8);
        assertTrue(untyped.length < docker.manifest().length, "the top-level mediaType field was removed");
        TestImages.Image image = new TestImages.Image(MediaTypes.DOCKER_MANIFEST, untyped, docker.blobs());

        HttpResponse<byte[]> put = client.put("/v2/mf/untyped/manifests/v1", untyped, MediaTypes.DOCKER_MANIFEST);
        assertEquals(201, put.statusCode(), describe(put));
        String ipfsPath = header(put, "X-Ipfs-Path");

        assertManifestResponse(client.get("/v2/mf/untyped/manifests/v1"), image, false);
        gateway = gateway.restart();
        client = gateway.client();
        assertManifestResponse(client.get("/v2/mf/untyped/manifests/v1"), image, false);
        assertManifestResponse(client.head("/v2/mf/untyped/manifests/" + image.digest()), image, true);
        if (ipfsPath != null) {
            String cid = ipfsPath.substring("/ipfs/".length());
            assertManifestResponse(client.get("/v2/" + cid + "/manifests/" + image.digest()), image, false);
        }
    }

    /** Issue 9: a layer with urls (non-distributable) whose blob was never pushed made the PUT fail. */
    @Test
    void put_nonDistributableLayerNeverPushed_201() {
        TestImages.Blob config = TestImages.config(MediaTypes.OCI_CONFIG);
        client.pushBlob("mf/foreign", config.content());
        TestImages.Blob pushed = TestImages.layer(MediaTypes.OCI_LAYER_TAR_GZIP, 700);
        client.pushBlob("mf/foreign", pushed.content());
        String foreignDigest = RegistryClient.digestOf(RegistryClient.randomBytes(50));
        String foreign = "{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\","
                + "\"digest\":\"" + foreignDigest + "\",\"size\":50,"
                + "\"urls\":[\"https://example.com/layers/" + foreignDigest + "\"]}";
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                + config.descriptor() + ",\"layers\":[" + foreign + "," + pushed.descriptor() + "]}")
                .getBytes(StandardCharsets.UTF_8);

        HttpResponse<byte[]> put = client.put("/v2/mf/foreign/manifests/v1", manifest, MediaTypes.OCI_MANIFEST);

        assertEquals(201, put.statusCode(), describe(put));
        assertArrayEquals(manifest, client.get("/v2/mf/foreign/manifests/v1").body());
        String withoutUrls = new String(manifest, StandardCharsets.UTF_8).replaceFirst(",\"urls\":\\[[^\\]]*\\]", "");
        assertOciError(client.put("/v2/mf/foreign/manifests/v2", withoutUrls.getBytes(StandardCharsets.UTF_8),
                MediaTypes.OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN");
    }

    /** Issue 9: GET and HEAD by a reference that is not a valid tag answered 400; a PUT stays 400. */
    @ParameterizedTest
    @ValueSource(strings = {".hidden", "-dash", "a+b", "x%20y"})
    void getAndHead_invalidTag_404ManifestUnknown(String reference) {
        TestImages.Image image = prepare("mf/badtag", "oci-manifest");
        client.pushManifest("mf/badtag", "v1", image.manifest(), image.mediaType());

        assertOciError(client.get("/v2/mf/badtag/manifests/" + reference), 404, "MANIFEST_UNKNOWN");
        assertEquals(404, client.head("/v2/mf/badtag/manifests/" + reference).statusCode());
        assertOciError(client.put("/v2/mf/badtag/manifests/" + reference, image.manifest(), image.mediaType()), 400,
                "MANIFEST_INVALID");
    }

    private static String sha512(byte[] content) {
        try {
            return "sha512:" + java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-512").digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Issue 9: a manifest pushed by a sha512 reference was stored and answered under sha256, then 404 by
     * its sha512 reference; an index referring to children by sha512 was refused.
     */
    @Test
    void putByDigest_sha512_storedAndAnsweredUnderSha512() {
        TestImages.Image child = prepare("mf/sha512", "oci-manifest");
        String childDigest = sha512(child.manifest());

        HttpResponse<byte[]> put = client.put("/v2/mf/sha512/manifests/" + childDigest, child.manifest(),
                child.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(childDigest, header(put, "Docker-Content-Digest"));
        assertEquals("/v2/mf/sha512/manifests/" + childDigest, client.pathOf(header(put, "Location")));
        HttpResponse<byte[]> get = client.get("/v2/mf/sha512/manifests/" + childDigest);
        assertEquals(200, get.statusCode(), describe(get));
        assertArrayEquals(child.manifest(), get.body());
        assertEquals(childDigest, header(get, "Docker-Content-Digest"));
        assertEquals(200, client.head("/v2/mf/sha512/manifests/" + childDigest).statusCode());

        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
                + TestImages.descriptor(child.mediaType(), childDigest, child.size()) + "]}";
        byte[] indexBytes = index.getBytes(StandardCharsets.UTF_8);
        String indexDigest = sha512(indexBytes);
        HttpResponse<byte[]> putIndex = client.put("/v2/mf/sha512/manifests/" + indexDigest, indexBytes,
                MediaTypes.OCI_INDEX);
        assertEquals(201, putIndex.statusCode(), describe(putIndex));
        assertEquals(indexDigest, header(putIndex, "Docker-Content-Digest"));
        HttpResponse<byte[]> byTag = client.put("/v2/mf/sha512/manifests/multi", indexBytes, MediaTypes.OCI_INDEX);
        assertEquals(201, byTag.statusCode(), describe(byTag));
        assertArrayEquals(indexBytes, client.get("/v2/mf/sha512/manifests/multi").body());
        assertArrayEquals(indexBytes, client.get("/v2/mf/sha512/manifests/" + indexDigest).body());
        assertOciError(client.put("/v2/mf/sha512/manifests/" + sha512(new byte[1]), indexBytes, MediaTypes.OCI_INDEX),
                400, "DIGEST_INVALID");
    }
}
