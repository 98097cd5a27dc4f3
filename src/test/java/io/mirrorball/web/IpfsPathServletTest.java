package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.testing.KuboNode;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code GET|HEAD /ipfs/<cid>} ({@link IpfsPathServlet}) on a gateway with an embedded node, and an
 * embedded gateway B that clones an image from gateway A over HTTP (A's /ipfs endpoint as B's
 * trustless gateway).
 */
final class IpfsPathServletTest {
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    private IpfsPathTestServer gatewayA;
    private RegistryClient a;
    private TestImages.Image image;
    private String repo;
    private Cid cid;

    @BeforeEach
    void pushImage() throws Exception {
        gatewayA = IpfsPathTestServer.embedded(tmp.resolve("a"), Map.of());
        open.add(gatewayA);
        a = gatewayA.client();
        repo = "ns/app";
        image = TestImages.ociImage(3);
        for (TestImages.Blob blob : image.blobs()) {
            a.pushBlob(repo, blob.content());
        }
        HttpResponse<byte[]> put = a.put("/v2/" + repo + "/manifests/v1", image.manifest(), image.mediaType());
        RegistryClient.expect(put, 201, "push manifest");
        String ipfsPath = RegistryClient.header(put, "X-Ipfs-Path");
        assertNotNull(ipfsPath, "X-Ipfs-Path");
        cid = Cid.parse(ipfsPath.substring("/ipfs/".length()));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void getRaw_acceptHeader_returnsVerifiableBlock() {
        HttpResponse<byte[]> r = a.get("/ipfs/" + cid, "Accept", IpfsPathServlet.RAW);
        assertEquals(200, r.statusCode(), RegistryClient.describe(r));
        assertEquals(IpfsPathServlet.RAW, RegistryClient.header(r, "Content-Type"));
        assertArrayEquals(cid.sha256Digest(), RegistryClient.sha256().digest(r.body()), "block hashes to its CID");
        assertEquals("/ipfs/" + cid, RegistryClient.header(r, "X-Ipfs-Path"));
        assertEquals("\"" + cid + ".raw\"", RegistryClient.header(r, "Etag"));
        assertTrue(RegistryClient.header(r, "Content-Disposition").startsWith("attachment"));
        assertEquals("nosniff", RegistryClient.header(r, "X-Content-Type-Options"));
        assertTrue(RegistryClient.header(r, "Cache-Control").contains("immutable"));
    }

    @Test
    void getRaw_formatParameter_returnsSameBlockAsAccept() {
        HttpResponse<byte[]> byFormat = a.get("/ipfs/" + cid + "?format=raw");
        HttpResponse<byte[]> byAccept = a.get("/ipfs/" + cid, "Accept", "text/html, application/vnd.ipld.raw;q=0.9");
        assertEquals(200, byFormat.statusCode(), RegistryClient.describe(byFormat));
        assertEquals(200, byAccept.statusCode(), RegistryClient.describe(byAccept));
        assertArrayEquals(byAccept.body(), byFormat.body());
    }

    @Test
    void headRaw_known_sizeWithoutBody() {
        byte[] block = a.get("/ipfs/" + cid + "?format=raw").body();
        HttpResponse<byte[]> r = a.head("/ipfs/" + cid + "?format=raw");
        assertEquals(200, r.statusCode(), RegistryClient.describe(r));
        assertEquals(String.valueOf(block.length), RegistryClient.header(r, "Content-Length"));
        assertEquals(0, r.body().length);
    }

    @Test
    void getRaw_ifNoneMatchEtag_notModified() {
        HttpResponse<byte[]> r = a.get("/ipfs/" + cid + "?format=raw", "If-None-Match", "\"" + cid + ".raw\"");
        assertEquals(304, r.statusCode(), RegistryClient.describe(r));
    }

    @Test
    void getCar_imports_intoAnotherNodeWithWholeImage() throws Exception {
        for (String[] ask : new String[][] {{"?format=car"}, {"", "Accept", "application/vnd.ipld.car; version=1"}}) {
            HttpResponse<InputStream> r = a.sendStreaming("GET", "/ipfs/" + cid + ask[0],
                    java.util.Arrays.copyOfRange(ask, 1, ask.length));
            assertEquals(200, r.statusCode(), "CAR of " + cid + ask[0]);
            assertEquals(IpfsPathServlet.CAR_CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(null));
            Path other = tmp.resolve("import-" + UUID.randomUUID());
            try (InputStream car = r.body(); EmbeddedNode node = EmbeddedNode.open(other)) {
                assertEquals(List.of(cid), node.dagImport(car), "roots of the CAR");
                assertTrue(node.fsck().clean(), "every block of the CAR verified and present");
                try (InputStream manifest = node.cat("/ipfs/" + cid + "/blobs/sha256/" + hex(image.digest()), 0, -1)) {
                    assertArrayEquals(image.manifest(), manifest.readAllBytes(), "manifest from the CAR");
                }
                for (TestImages.Blob blob : image.blobs()) {
                    try (InputStream in = node.cat("/ipfs/" + cid + "/blobs/sha256/" + hex(blob.digest()), 0, -1)) {
                        assertArrayEquals(blob.content(), in.readAllBytes(), "blob " + blob.digest() + " from the CAR");
                    }
                }
                try (InputStream disco = node.cat("/ipfs/" + cid + "/disco.json", 0, -1)) {
                    assertTrue(new String(disco.readAllBytes(), StandardCharsets.UTF_8).contains(hex(image.digest())));
                }
            }
        }
    }

    @Test
    void getCar_dagScopeBlock_rootBlockOnly() throws Exception {
        byte[] block = a.get("/ipfs/" + cid + "?format=raw").body();
        HttpResponse<byte[]> r = a.get("/ipfs/" + cid + "?format=car&dag-scope=block");
        assertEquals(200, r.statusCode(), RegistryClient.describe(r));
        assertTrue(r.body().length > block.length && r.body().length < block.length + 200,
                "header and one section: " + r.body().length + " bytes for a root block of " + block.length);
        try (EmbeddedNode node = EmbeddedNode.open(tmp.resolve("scope-block"))) {
            // the import stores the block and pins nothing; pinning the root fails: its children did not come with it
            assertEquals(List.of(cid), node.dagImport(new java.io.ByteArrayInputStream(r.body())));
            assertArrayEquals(block, node.blockGet(cid), "the root block came in the CAR");
            IpfsNotFoundException notPinned = assertThrows(IpfsNotFoundException.class, () -> node.pinAdd(cid));
            assertTrue(notPinned.getMessage().contains(cid.toString()), notPinned.getMessage());
            assertEquals(List.of(), node.pins());
        }
    }

    @Test
    void headCar_known_okWithoutBody() {
        HttpResponse<byte[]> r = a.head("/ipfs/" + cid + "?format=car");
        assertEquals(200, r.statusCode(), RegistryClient.describe(r));
        assertEquals(IpfsPathServlet.CAR_CONTENT_TYPE, RegistryClient.header(r, "Content-Type"));
        assertEquals(0, r.body().length);
    }

    /** Bad requests: the path (with {@code CID} replaced by the pushed image's CID), Accept, status. */
    @ParameterizedTest(name = "{0} Accept={1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            /ipfs/not-a-cid?format=raw              |                                 | 400
            /ipfs/bafyZZZ?format=car                |                                 | 400
            /ipfs/?format=raw                       |                                 | 400
            /ipfs/CID/disco.json?format=raw         |                                 | 400
            /ipfs/CID?format=tar                    |                                 | 400
            /ipfs/CID?format=car&dag-scope=entity   |                                 | 400
            /ipfs/CID?format=car&entity-bytes=0:10  |                                 | 400
            /ipfs/CID                               |                                 | 406
            /ipfs/CID                               | text/html                       | 406
            /ipfs/CID                               | application/vnd.ipld.car;version=2 | 406
            /ipfs/CID/                              | application/vnd.ipld.raw        | 200
            """)
    void get_request_status(String path, String accept, int status) {
        HttpResponse<byte[]> r = accept == null ? a.get(path.replace("CID", cid.toString()))
                : a.get(path.replace("CID", cid.toString()), "Accept", accept);
        assertEquals(status, r.statusCode(), RegistryClient.describe(r));
        if (status != 200) {
            assertTrue(RegistryClient.header(r, "Content-Type").startsWith("text/plain"), RegistryClient.describe(r));
            assertTrue(r.body().length > 0, "an explanation in the body");
        }
    }

    @Test
    void get_unknownCid_404Quickly() {
        for (String format : List.of("raw", "car")) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = a.get("/ipfs/" + absentCid() + "?format=" + format);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(404, r.statusCode(), RegistryClient.describe(r));
            assertTrue(millis < 5_000, "404 took " + millis + " ms");
        }
    }

    /** With a Kubo node behind the gateway: blocks it holds are served, unknown CIDs are a quick 404. */
    @Test
    void get_kuboNode_servesBlockAndUnknownIs404Quickly() throws Exception {
        IpfsPathTestServer kubo = IpfsPathTestServer.embedded(tmp.resolve("k"), Map.of(
                "MIRRORBALL_STORAGE_IPFS_NODE", KuboNode.shared().apiUrl().toString(),
                "MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/t-" + UUID.randomUUID()));
        open.add(kubo);
        RegistryClient k = kubo.client();
        TestImages.Image pushed = k.pushImage("kubo/app", "v1", 2);
        String ipfsPath = RegistryClient.header(k.head("/v2/kubo/app/manifests/v1"), "X-Ipfs-Path");
        assertNotNull(ipfsPath, "X-Ipfs-Path of " + pushed.digest());
        Cid kuboCid = Cid.parse(ipfsPath.substring("/ipfs/".length()));
        HttpResponse<byte[]> block = k.get("/ipfs/" + kuboCid + "?format=raw");
        assertEquals(200, block.statusCode(), RegistryClient.describe(block));
        assertArrayEquals(kuboCid.sha256Digest(), RegistryClient.sha256().digest(block.body()));
        HttpResponse<InputStream> car = k.sendStreaming("GET", "/ipfs/" + kuboCid + "?format=car");
        assertEquals(200, car.statusCode(), "CAR from the Kubo-backed gateway");
        try (InputStream in = car.body(); EmbeddedNode node = EmbeddedNode.open(tmp.resolve("kubo-import"))) {
            assertEquals(List.of(kuboCid), node.dagImport(in));
            assertTrue(node.fsck().clean(), "the CAR from Kubo holds the whole image");
            try (InputStream manifest = node.cat("/ipfs/" + kuboCid + "/blobs/sha256/" + hex(pushed.digest()), 0, -1)) {
                assertArrayEquals(pushed.manifest(), manifest.readAllBytes());
            }
        }

        long start = System.nanoTime();
        HttpResponse<byte[]> r = k.get("/ipfs/" + absentCid() + "?format=raw");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(404, r.statusCode(), RegistryClient.describe(r));
        assertTrue(millis < 10_000, "404 from the Kubo-backed gateway took " + millis + " ms");
    }

    /** Gateway B (embedded) knows nothing of the image; with A as its trustless gateway it clones it. */
    @Test
    void pullByCid_otherGatewayWithTrustlessGateway_clonesIdenticalImage() throws Exception {
        IpfsPathTestServer gatewayB = IpfsPathTestServer.embedded(tmp.resolve("b"), Map.of(
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAYS", gatewayA.uri().toString(),
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAY_TIMEOUT", "10s"));
        open.add(gatewayB);
        RegistryClient b = gatewayB.client();
        HttpResponse<byte[]> manifest = b.get("/v2/" + cid + "/manifests/latest", "Accept", image.mediaType());
        assertEquals(200, manifest.statusCode(), RegistryClient.describe(manifest));
        assertArrayEquals(image.manifest(), manifest.body(), "manifest cloned through A's /ipfs endpoint");
        assertEquals("/ipfs/" + cid, RegistryClient.header(manifest, "X-Ipfs-Path"));
        for (TestImages.Blob blob : image.blobs()) {
            HttpResponse<byte[]> r = b.get("/v2/" + cid + "/blobs/" + blob.digest());
            assertEquals(200, r.statusCode(), RegistryClient.describe(r));
            assertArrayEquals(blob.content(), r.body(), "blob " + blob.digest());
        }
        // B now holds the blocks itself: it serves them to others, and keeps them after A is gone
        gatewayA.close();
        open.remove(gatewayA);
        HttpResponse<byte[]> again = b.get("/v2/" + cid + "/blobs/" + image.blobs().get(1).digest());
        assertEquals(200, again.statusCode(), RegistryClient.describe(again));
        HttpResponse<byte[]> root = b.get("/ipfs/" + cid + "?format=raw");
        assertEquals(200, root.statusCode(), RegistryClient.describe(root));
    }

    /** Without a trustless gateway the same pull is a clean NAME_UNKNOWN, quickly. */
    @Test
    void pullByCid_otherGatewayWithoutTrustlessGateway_nameUnknown() throws Exception {
        IpfsPathTestServer gatewayB = IpfsPathTestServer.embedded(tmp.resolve("b"), Map.of());
        open.add(gatewayB);
        RegistryClient.assertOciError(gatewayB.client().get("/v2/" + cid + "/manifests/latest"), 404, "NAME_UNKNOWN");
    }

    private static Cid absentCid() {
        return Cid.sha256(Cid.RAW, RegistryClient.sha256().digest(RegistryClient.randomBytes(64)));
    }

    private static String hex(String digest) {
        return digest.substring("sha256:".length());
    }
}
