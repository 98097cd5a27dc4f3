package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.describe;
import static io.mirrorball.web.RegistryClient.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.testing.KuboNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** GET, HEAD, Range and DELETE of blobs (distribution-spec v1.1 end-2, end-10), and digest verification. */
final class RegistryApiBlobsTest {
    /** Larger than one 256 KiB IPFS chunk, so ranges cross chunk boundaries. */
    private static final int SIZE = 600_000;

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

    @Test
    void getBase_ok_apiVersionHeader() {
        HttpResponse<byte[]> r = client.get("/v2/");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals("registry/2.0", header(r, "Docker-Distribution-API-Version"));
    }

    @Test
    void getBase_withoutSlash_ok() {
        HttpResponse<byte[]> r = client.get("/v2");

        assertTrue(r.statusCode() == 200 || r.statusCode() == 301 || r.statusCode() == 302 || r.statusCode() == 308,
                describe(r));
    }

    @Test
    void getBlob_pushed_bytesAndHeaders() {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/get", content);

        HttpResponse<byte[]> r = client.get("/v2/blobs/get/blobs/" + digest);

        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(content, r.body());
        assertEquals(String.valueOf(SIZE), header(r, "Content-Length"));
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        String etag = header(r, "ETag");
        assertNotNull(etag, "ETag");
        assertTrue(etag.contains(digest.substring("sha256:".length())), "ETag names the digest: " + etag);
    }

    @Test
    void headBlob_pushed_headersWithoutBody() {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/head", content);

        HttpResponse<byte[]> r = client.head("/v2/blobs/head/blobs/" + digest);

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(0, r.body().length);
        assertEquals(String.valueOf(SIZE), header(r, "Content-Length"), "HEAD reports the blob size");
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        assertNotNull(header(r, "ETag"), "ETag");
    }

    @Test
    void getBlob_ifNoneMatchEtag_notModifiedOrFull() {
        byte[] content = RegistryClient.randomBytes(1000);
        String digest = client.pushBlob("blobs/etag", content);
        String etag = header(client.head("/v2/blobs/etag/blobs/" + digest), "ETag");

        HttpResponse<byte[]> r = client.get("/v2/blobs/etag/blobs/" + digest, "If-None-Match", etag);

        if (r.statusCode() == 200) {
            assertArrayEquals(content, r.body());
        } else {
            assertEquals(304, r.statusCode(), describe(r));
            assertEquals(0, r.body().length);
        }
    }

    @Test
    void headBase_ok() {
        HttpResponse<byte[]> r = client.head("/v2/");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals("registry/2.0", header(r, "Docker-Distribution-API-Version"));
    }

    /** Clients send Accept-Encoding: gzip; a compressed blob would no longer match its digest and size. */
    @Test
    void getBlob_acceptEncodingGzip_servedIdentity() {
        byte[] content = new byte[200_000];                // compressible
        String digest = client.pushBlob("blobs/gzip", content);

        HttpResponse<byte[]> r = client.get("/v2/blobs/gzip/blobs/" + digest, "Accept-Encoding", "gzip, deflate");

        assertEquals(200, r.statusCode(), describe(r));
        String encoding = header(r, "Content-Encoding");
        assertTrue(encoding == null || encoding.equals("identity"), "Content-Encoding " + encoding);
        assertArrayEquals(content, r.body());
        assertEquals(String.valueOf(content.length), header(r, "Content-Length"));
    }

    @Test
    void getBlob_zeroBytes_emptyBody() {
        String digest = client.pushBlob("blobs/empty", new byte[0]);

        HttpResponse<byte[]> get = client.get("/v2/blobs/empty/blobs/" + digest);
        HttpResponse<byte[]> head = client.head("/v2/blobs/empty/blobs/" + digest);

        assertEquals("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", digest);
        assertEquals(200, get.statusCode(), describe(get));
        assertEquals(0, get.body().length);
        assertEquals("0", header(get, "Content-Length"));
        assertEquals(200, head.statusCode(), describe(head));
        assertEquals("0", header(head, "Content-Length"));
        assertEquals(digest, header(head, "Docker-Content-Digest"));
    }

    /** Range, expected first byte, expected last byte (inclusive); -1 stands for size-1. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "bytes=0-0,         0,      0",
            "bytes=0-9,         0,      9",
            "bytes=10-19,       10,     19",
            "bytes=262000-263000, 262000, 263000",   // across the first IPFS chunk boundary (262144)
            "bytes=262144-524288, 262144, 524288",   // exactly one chunk, from a boundary
            "bytes=599999-599999, 599999, 599999",   // the last byte
            "bytes=100-,        100,    -1",          // open-ended
            "bytes=-10,         599990, -1",          // suffix
            "bytes=-600000,     0,      -1",          // suffix of the whole blob
            "bytes=-700000,     0,      -1",          // suffix longer than the blob
            "bytes=5-999999,    5,      -1",          // end past the blob is clipped
    })
    void getBlob_range_partialContent(String range, long first, long last) {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/range", content);
        long end = last < 0 ? SIZE - 1 : last;

        HttpResponse<byte[]> r = client.get("/v2/blobs/range/blobs/" + digest, "Range", range);

        if (first == 0 && end == SIZE - 1 && r.statusCode() == 200) {
            assertArrayEquals(content, r.body(), "a range of the whole blob may be answered with 200");
            return;
        }
        assertEquals(206, r.statusCode(), describe(r));
        assertEquals("bytes " + first + "-" + end + "/" + SIZE, header(r, "Content-Range"));
        assertEquals(String.valueOf(end - first + 1), header(r, "Content-Length"));
        assertArrayEquals(Arrays.copyOfRange(content, (int) first, (int) end + 1), r.body());
    }

    /** Includes issue 9's {@code bytes=500-0} (last before first), which served the whole blob with 200. */
    @ParameterizedTest
    @ValueSource(strings = {"bytes=600000-", "bytes=600000-600010", "bytes=999999-", "bytes=500-0", "bytes=500-499"})
    void getBlob_unsatisfiableRange_416(String range) {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/range416", content);

        HttpResponse<byte[]> r = client.get("/v2/blobs/range416/blobs/" + digest, "Range", range);

        assertEquals(416, r.statusCode(), describe(r));
        assertEquals("bytes */" + SIZE, header(r, "Content-Range"));
    }

    @Test
    void getBlob_rangeOnEmptyBlob_416OrFull() {
        String digest = client.pushBlob("blobs/range0", new byte[0]);

        HttpResponse<byte[]> r = client.get("/v2/blobs/range0/blobs/" + digest, "Range", "bytes=0-");

        assertTrue(r.statusCode() == 416 || r.statusCode() == 200, describe(r));
        if (r.statusCode() == 200) {
            assertEquals(0, r.body().length);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=abc", "bytes=5-1", "items=0-5", "bytes=", "bytes=0-1,5-9"})
    void getBlob_malformedOrMultiRange_neverServerError(String range) {
        byte[] content = RegistryClient.randomBytes(1000);
        String digest = client.pushBlob("blobs/badrange", content);

        HttpResponse<byte[]> r = client.get("/v2/blobs/badrange/blobs/" + digest, "Range", range);

        assertTrue(r.statusCode() < 500, describe(r));
        if (r.statusCode() == 200) {
            assertArrayEquals(content, r.body(), "an ignored Range header serves the whole blob");
        } else {
            assertTrue(r.statusCode() == 206 || r.statusCode() == 416 || r.statusCode() == 400, describe(r));
        }
    }

    @Test
    void headBlob_range_partialHeaders() {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/headrange", content);

        HttpResponse<byte[]> r = client.head("/v2/blobs/headrange/blobs/" + digest, "Range", "bytes=10-19");

        assertTrue(r.statusCode() == 206 || r.statusCode() == 200, describe(r));
        if (r.statusCode() == 206) {
            assertEquals("bytes 10-19/" + SIZE, header(r, "Content-Range"));
            assertEquals("10", header(r, "Content-Length"));
        } else {
            assertEquals(String.valueOf(SIZE), header(r, "Content-Length"));
        }
    }

    @Test
    void getBlob_unknown_404BlobUnknown() {
        client.pushBlob("blobs/unknown", RegistryClient.randomBytes(10));
        String missing = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        assertOciError(client.get("/v2/blobs/unknown/blobs/" + missing), 404, "BLOB_UNKNOWN");
        HttpResponse<byte[]> head = client.head("/v2/blobs/unknown/blobs/" + missing);
        assertEquals(404, head.statusCode(), describe(head));
        assertEquals(0, head.body().length);
    }

    @Test
    void getBlob_unknownRepository_404() {
        String missing = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        HttpResponse<byte[]> r = client.get("/v2/never/pushed/blobs/" + missing);

        JsonNode error = RegistryClient.assertOciError(r, 404, null);
        assertTrue(error.get("code").asText().equals("BLOB_UNKNOWN") || error.get("code").asText().equals("NAME_UNKNOWN"),
                describe(r));
    }

    @Test
    void getBlob_pushedToOtherRepository_404BlobUnknown() {
        String digest = client.pushBlob("blobs/owner", RegistryClient.randomBytes(100));
        client.pushBlob("blobs/other", RegistryClient.randomBytes(100));

        assertOciError(client.get("/v2/blobs/other/blobs/" + digest), 404, "BLOB_UNKNOWN");
        assertEquals(404, client.head("/v2/blobs/other/blobs/" + digest).statusCode());
    }

    @Test
    void deleteBlob_pushed_202Then404() {
        byte[] content = RegistryClient.randomBytes(1000);
        String digest = client.pushBlob("blobs/delete", content);

        HttpResponse<byte[]> r = client.delete("/v2/blobs/delete/blobs/" + digest);

        assertEquals(202, r.statusCode(), describe(r));
        assertOciError(client.get("/v2/blobs/delete/blobs/" + digest), 404, "BLOB_UNKNOWN");
        assertEquals(404, client.head("/v2/blobs/delete/blobs/" + digest).statusCode());
        assertOciError(client.delete("/v2/blobs/delete/blobs/" + digest), 404, "BLOB_UNKNOWN");
    }

    @Test
    void deleteBlob_sharedWithOtherRepository_otherKeepsIt() {
        byte[] content = RegistryClient.randomBytes(1000);
        String digest = client.pushBlob("blobs/shared-a", content);
        client.pushBlob("blobs/shared-b", content);

        assertEquals(202, client.delete("/v2/blobs/shared-a/blobs/" + digest).statusCode());

        HttpResponse<byte[]> r = client.get("/v2/blobs/shared-b/blobs/" + digest);
        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(content, r.body());
    }

    @Test
    void deleteBlob_unknown_404BlobUnknown() {
        client.pushBlob("blobs/delunknown", RegistryClient.randomBytes(10));
        String missing = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        assertOciError(client.delete("/v2/blobs/delunknown/blobs/" + missing), 404, "BLOB_UNKNOWN");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:abc", "sha256:6C3C624B58DBBCD3C0DD82B4C53F04194D1247C6EEBDAAB7C610CF7D66709B3B",
            "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256", "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3bb",
            "sha256:zzzc624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"})
    void getBlob_badDigest_400DigestInvalid(String digest) {
        assertOciError(client.get("/v2/blobs/bad/blobs/" + digest), 400, "DIGEST_INVALID");
        assertOciError(client.delete("/v2/blobs/bad/blobs/" + digest), 400, "DIGEST_INVALID");
        HttpResponse<byte[]> head = client.head("/v2/blobs/bad/blobs/" + digest);
        assertEquals(400, head.statusCode(), describe(head));
    }

    @Test
    void getBlob_severalMiB_streamedAndIdentical() throws IOException {
        int size = 6 * 1024 * 1024 + 123;
        byte[] content = RegistryClient.randomBytes(size);
        String digest = client.pushBlob("blobs/big", content);

        HttpResponse<InputStream> r = client.sendStreaming("GET", "/v2/blobs/big/blobs/" + digest);
        MessageDigest sha = RegistryClient.sha256();
        long count = 0;
        try (InputStream in = r.body()) {
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
                count += n;
            }
        }

        assertEquals(200, r.statusCode());
        assertEquals(String.valueOf(size), r.headers().firstValue("Content-Length").orElse(null));
        assertEquals(size, count);
        assertEquals(digest, "sha256:" + HexFormat.of().formatHex(sha.digest()));
    }

    /**
     * Every byte served from IPFS is verified against its digest: the blob's MFS file is replaced by
     * other bytes of the same size, the gateway restarted (no cache), and the GET must not deliver the
     * wrong bytes as a complete 200 response: it answers an error or aborts the connection.
     */
    @Test
    void getBlob_corruptedInIpfs_neverServedAsComplete() throws Exception {
        byte[] content = RegistryClient.randomBytes(SIZE);
        String digest = client.pushBlob("blobs/corrupt", content);
        String hex = digest.substring("sha256:".length());
        String dataPath = gateway.mfsRoot() + "/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data";
        KuboNode kubo = KuboNode.shared();
        String before = kubo.rpc("files/stat?arg=" + dataPath);
        byte[] wrong = content.clone();
        wrong[SIZE - 1] ^= 0x01;                       // same size, last byte differs
        String wrongCid = addToKubo(kubo, wrong);
        kubo.rpc("files/rm?arg=" + dataPath);
        kubo.rpc("files/cp?arg=/ipfs/" + wrongCid + "&arg=" + dataPath);
        String after = kubo.rpc("files/stat?arg=" + dataPath);
        assertNotEquals(before, after, "the blob file was replaced");
        assertTrue(after.contains(wrongCid), after);
        gateway = gateway.restart();
        client = gateway.client();

        HttpResponse<InputStream> r = client.sendStreaming("GET", "/v2/blobs/corrupt/blobs/" + digest);
        if (r.statusCode() != 200) {
            r.body().close();
            System.out.println("corrupted blob: answered " + r.statusCode());
            assertTrue(r.statusCode() >= 400, "status " + r.statusCode());
            return;
        }
        byte[] served;
        try (InputStream in = r.body()) {
            served = in.readAllBytes();
        } catch (IOException aborted) {
            System.out.println("corrupted blob: 200, then the connection was aborted: " + aborted);
            return;                                    // the connection was aborted: correct
        }
        System.out.println("corrupted blob: 200 with " + served.length + " bytes, correct bytes: "
                + Arrays.equals(served, content));
        assertFalse(served.length == SIZE && Arrays.equals(served, wrong),
                "the corrupted bytes were served as a complete 200 response");
        assertArrayEquals(content, served, "a complete 200 body must be the blob's bytes");
    }

    /** Adds bytes to the Kubo node with the fixed import parameters and returns the CID. */
    static String addToKubo(KuboNode kubo, byte[] content) throws IOException, InterruptedException {
        String boundary = "mb" + UUID.randomUUID().toString().replace("-", "");
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[head.length + content.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(content, 0, body, head.length, content.length);
        System.arraycopy(tail, 0, body, head.length + content.length, tail.length);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(kubo.apiUrl()
                        + "/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-262144&hash=sha2-256&pin=false"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode added = RegistryClient.JSON.readTree(r.body().lines().reduce((a, b) -> b).orElseThrow());
        return added.get("Hash").asText();
    }
}
