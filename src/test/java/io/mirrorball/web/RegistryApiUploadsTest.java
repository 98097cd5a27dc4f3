package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.OCTET_STREAM;
import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.describe;
import static io.mirrorball.web.RegistryClient.header;
import static io.mirrorball.web.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blob uploads: monolithic, sessions, chunks, status, cancel, mount (distribution-spec v1.1 end-4 to end-6, end-11). */
final class RegistryApiUploadsTest {
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

    private void assertBlob(String repo, String digest, byte[] content) {
        HttpResponse<byte[]> r = client.get("/v2/" + repo + "/blobs/" + digest);
        assertEquals(200, r.statusCode(), describe(r));
        assertArrayEquals(content, r.body(), "GET returns the uploaded bytes");
        assertEquals(digest, header(r, "Docker-Content-Digest"));
    }

    @Test
    void postMonolithic_digest_201LocationDigest() {
        byte[] content = RegistryClient.randomBytes(5000);
        String digest = RegistryClient.digestOf(content);

        HttpResponse<byte[]> r = client.post("/v2/up/mono/blobs/uploads/?digest=" + digest, content,
                "Content-Type", OCTET_STREAM);

        assertEquals(201, r.statusCode(), describe(r));
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        String location = client.pathOf(header(r, "Location"));
        assertEquals("/v2/up/mono/blobs/" + digest, location.replaceFirst("\\?.*", ""), "Location is the blob URL");
        assertBlob("up/mono", digest, content);
        HttpResponse<byte[]> viaLocation = client.get(location);
        assertArrayEquals(content, viaLocation.body());
    }

    @Test
    void postMonolithic_wrongDigest_400DigestInvalid() {
        byte[] content = RegistryClient.randomBytes(5000);
        String wrong = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        assertOciError(client.post("/v2/up/monowrong/blobs/uploads/?digest=" + wrong, content,
                "Content-Type", OCTET_STREAM), 400, "DIGEST_INVALID");
        assertOciError(client.get("/v2/up/monowrong/blobs/" + wrong), 404, "BLOB_UNKNOWN");
        assertOciError(client.get("/v2/up/monowrong/blobs/" + RegistryClient.digestOf(content)), 404, "BLOB_UNKNOWN");
    }

    @Test
    void postMonolithic_malformedDigest_400DigestInvalid() {
        assertOciError(client.post("/v2/up/monobad/blobs/uploads/?digest=sha256:1234", new byte[] {1, 2},
                "Content-Type", OCTET_STREAM), 400, "DIGEST_INVALID");
    }

    @Test
    void postMonolithic_zeroBytes_201() {
        String digest = RegistryClient.digestOf(new byte[0]);

        HttpResponse<byte[]> r = client.post("/v2/up/zero/blobs/uploads/?digest=" + digest, new byte[0],
                "Content-Type", OCTET_STREAM);

        assertEquals(201, r.statusCode(), describe(r));
        assertBlob("up/zero", digest, new byte[0]);
    }

    @Test
    void postMonolithic_severalMiBStreamed_201AndIdentical() throws IOException {
        long size = 5L * 1024 * 1024 + 7;
        String digest = digestOfPattern(42, size);

        HttpResponse<byte[]> r = client.send(client.request("/v2/up/monobig/blobs/uploads/?digest=" + digest,
                        "Content-Type", OCTET_STREAM)
                .POST(BodyPublishers.ofInputStream(() -> pattern(42, size))).build());

        assertEquals(201, r.statusCode(), describe(r));
        assertStreamedBlob("up/monobig", digest, size);
    }

    @Test
    void postSession_202LocationUuidRange() {
        HttpResponse<byte[]> r = client.post("/v2/up/session/blobs/uploads/", new byte[0]);

        assertEquals(202, r.statusCode(), describe(r));
        String location = client.pathOf(header(r, "Location"));
        assertTrue(location.startsWith("/v2/up/session/blobs/uploads/"), location);
        String uuid = header(r, "Docker-Upload-UUID");
        assertNotNull(uuid, "Docker-Upload-UUID");
        assertTrue(location.contains(uuid), "Location " + location + " names the upload " + uuid);
        assertEquals("0-0", header(r, "Range"));
    }

    @Test
    void chunkedUpload_contentRange_rangeGrowsThenPut201() {
        byte[] content = RegistryClient.randomBytes(300_000);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/chunks");
        int[] bounds = {0, 100_000, 262_144, 300_000};

        for (int i = 0; i + 1 < bounds.length; i++) {
            byte[] chunk = Arrays.copyOfRange(content, bounds[i], bounds[i + 1]);
            HttpResponse<byte[]> r = client.patch(location, chunk, "Content-Type", OCTET_STREAM,
                    "Content-Range", bounds[i] + "-" + (bounds[i + 1] - 1));
            assertEquals(202, r.statusCode(), describe(r));
            assertEquals("0-" + (bounds[i + 1] - 1), header(r, "Range"));
            assertNotNull(header(r, "Docker-Upload-UUID"), "Docker-Upload-UUID on PATCH");
            location = client.pathOf(header(r, "Location"));
        }
        HttpResponse<byte[]> put = client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(digest, header(put, "Docker-Content-Digest"));
        assertEquals("/v2/up/chunks/blobs/" + digest, client.pathOf(header(put, "Location")).replaceFirst("\\?.*", ""));
        assertBlob("up/chunks", digest, content);
    }

    @Test
    void patch_streamedWithoutContentRange_202ThenPut201() {
        long size = 3L * 1024 * 1024 + 1;
        String digest = digestOfPattern(7, size);
        String location = client.startUpload("up/stream");

        HttpResponse<byte[]> r = client.send(client.request(location, "Content-Type", OCTET_STREAM)
                .method("PATCH", BodyPublishers.ofInputStream(() -> pattern(7, size))).build());

        assertEquals(202, r.statusCode(), describe(r));
        assertEquals("0-" + (size - 1), header(r, "Range"));
        location = client.pathOf(header(r, "Location"));
        HttpResponse<byte[]> put = client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody());
        assertEquals(201, put.statusCode(), describe(put));
        try {
            assertStreamedBlob("up/stream", digest, size);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void patch_twoStreamsWithoutContentRange_appended() {
        byte[] content = RegistryClient.randomBytes(20_000);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/stream2");

        HttpResponse<byte[]> first = client.patch(location, Arrays.copyOfRange(content, 0, 12_000),
                "Content-Type", OCTET_STREAM);
        assertEquals(202, first.statusCode(), describe(first));
        location = client.pathOf(header(first, "Location"));
        HttpResponse<byte[]> second = client.patch(location, Arrays.copyOfRange(content, 12_000, 20_000),
                "Content-Type", OCTET_STREAM);
        assertEquals(202, second.statusCode(), describe(second));
        assertEquals("0-19999", header(second, "Range"));
        location = client.pathOf(header(second, "Location"));

        assertEquals(201, client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody()).statusCode());
        assertBlob("up/stream2", digest, content);
    }

    /** Sessions spool to a directory that outlives (and can be shared by) gateway instances. */
    @Test
    void chunkedUpload_acrossRestart_resumes() throws Exception {
        byte[] content = RegistryClient.randomBytes(50_000);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/resume");
        HttpResponse<byte[]> first = client.patch(location, Arrays.copyOfRange(content, 0, 20_000),
                "Content-Type", OCTET_STREAM, "Content-Range", "0-19999");
        assertEquals(202, first.statusCode(), describe(first));
        location = client.pathOf(header(first, "Location"));

        gateway = gateway.restart();
        client = gateway.client();

        HttpResponse<byte[]> status = client.get(location);
        assertEquals(204, status.statusCode(), describe(status));
        assertEquals("0-19999", header(status, "Range"));
        HttpResponse<byte[]> second = client.patch(location, Arrays.copyOfRange(content, 20_000, 50_000),
                "Content-Type", OCTET_STREAM, "Content-Range", "20000-49999");
        assertEquals(202, second.statusCode(), describe(second));
        location = client.pathOf(header(second, "Location"));
        HttpResponse<byte[]> put = client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody());
        assertEquals(201, put.statusCode(), describe(put));
        assertBlob("up/resume", digest, content);
    }

    @Test
    void patch_outOfOrderChunk_416AndSessionUnchanged() {
        byte[] content = RegistryClient.randomBytes(3000);
        String location = client.startUpload("up/order");
        HttpResponse<byte[]> first = client.patch(location, Arrays.copyOfRange(content, 0, 1000),
                "Content-Type", OCTET_STREAM, "Content-Range", "0-999");
        assertEquals(202, first.statusCode(), describe(first));
        location = client.pathOf(header(first, "Location"));

        HttpResponse<byte[]> gap = client.patch(location, Arrays.copyOfRange(content, 2000, 3000),
                "Content-Type", OCTET_STREAM, "Content-Range", "2000-2999");

        assertEquals(416, gap.statusCode(), describe(gap));
        HttpResponse<byte[]> status = client.get(location);
        assertEquals(204, status.statusCode(), describe(status));
        assertEquals("0-999", header(status, "Range"), "a rejected chunk leaves the session as it was");
        HttpResponse<byte[]> next = client.patch(location, Arrays.copyOfRange(content, 1000, 3000),
                "Content-Type", OCTET_STREAM, "Content-Range", "1000-2999");
        assertEquals(202, next.statusCode(), describe(next));
        location = client.pathOf(header(next, "Location"));
        String digest = RegistryClient.digestOf(content);
        assertEquals(201, client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody()).statusCode());
        assertBlob("up/order", digest, content);
    }

    @Test
    void patch_repeatedChunk_416() {
        byte[] content = RegistryClient.randomBytes(2000);
        String location = client.startUpload("up/repeat");
        byte[] chunk = Arrays.copyOfRange(content, 0, 1000);
        HttpResponse<byte[]> first = client.patch(location, chunk, "Content-Type", OCTET_STREAM, "Content-Range", "0-999");
        assertEquals(202, first.statusCode(), describe(first));
        location = client.pathOf(header(first, "Location"));

        HttpResponse<byte[]> again = client.patch(location, chunk, "Content-Type", OCTET_STREAM, "Content-Range", "0-999");

        assertEquals(416, again.statusCode(), describe(again));
        assertEquals("0-999", header(client.get(location), "Range"));
    }

    @Test
    void patch_firstChunkNotAtZero_416() {
        String location = client.startUpload("up/notzero");

        HttpResponse<byte[]> r = client.patch(location, new byte[100], "Content-Type", OCTET_STREAM,
                "Content-Range", "100-199");

        assertEquals(416, r.statusCode(), describe(r));
    }

    @Test
    void patch_contentRangeLengthMismatch_4xx() {
        String location = client.startUpload("up/mismatch");

        HttpResponse<byte[]> r = client.patch(location, new byte[100], "Content-Type", OCTET_STREAM,
                "Content-Range", "0-499");

        assertTrue(r.statusCode() == 400 || r.statusCode() == 416, describe(r));
        RegistryClient.assertErrorBody(r);
    }

    @Test
    void getStatus_afterChunk_204RangeLocation() {
        String location = client.startUpload("up/status");
        HttpResponse<byte[]> patched = client.patch(location, RegistryClient.randomBytes(1234),
                "Content-Type", OCTET_STREAM, "Content-Range", "0-1233");
        location = client.pathOf(header(patched, "Location"));

        HttpResponse<byte[]> r = client.get(location);

        assertEquals(204, r.statusCode(), describe(r));
        assertEquals("0-1233", header(r, "Range"));
        assertTrue(client.pathOf(header(r, "Location")).startsWith("/v2/up/status/blobs/uploads/"), describe(r));
        assertNotNull(header(r, "Docker-Upload-UUID"), "Docker-Upload-UUID");
        assertEquals(0, r.body().length);
    }

    @Test
    void put_wrongDigest_400DigestInvalid() {
        byte[] content = RegistryClient.randomBytes(4000);
        String location = client.startUpload("up/wrong");
        HttpResponse<byte[]> patched = client.patch(location, content, "Content-Type", OCTET_STREAM,
                "Content-Range", "0-3999");
        location = client.pathOf(header(patched, "Location"));
        String wrong = RegistryClient.digestOf(RegistryClient.randomBytes(4000));

        assertOciError(client.send("PUT", withQuery(location, "digest=" + wrong), BodyPublishers.noBody()),
                400, "DIGEST_INVALID");
        assertOciError(client.get("/v2/up/wrong/blobs/" + wrong), 404, "BLOB_UNKNOWN");
        assertOciError(client.get("/v2/up/wrong/blobs/" + RegistryClient.digestOf(content)), 404, "BLOB_UNKNOWN");
    }

    @Test
    void put_withoutDigest_400() {
        String location = client.startUpload("up/nodigest");

        HttpResponse<byte[]> r = client.send("PUT", location, BodyPublishers.ofByteArray(new byte[10]),
                "Content-Type", OCTET_STREAM);

        assertEquals(400, r.statusCode(), describe(r));
        RegistryClient.assertErrorBody(r);
    }

    @Test
    void put_finalChunkInBody_201() {
        byte[] content = RegistryClient.randomBytes(10_000);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/final");
        HttpResponse<byte[]> patched = client.patch(location, Arrays.copyOfRange(content, 0, 6000),
                "Content-Type", OCTET_STREAM, "Content-Range", "0-5999");
        assertEquals(202, patched.statusCode(), describe(patched));
        location = client.pathOf(header(patched, "Location"));

        HttpResponse<byte[]> put = client.send("PUT", withQuery(location, "digest=" + digest),
                BodyPublishers.ofByteArray(Arrays.copyOfRange(content, 6000, 10_000)), "Content-Type", OCTET_STREAM);

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(digest, header(put, "Docker-Content-Digest"));
        assertBlob("up/final", digest, content);
    }

    @Test
    void put_wholeBlobInSession_201() {
        byte[] content = RegistryClient.randomBytes(70_000);

        String digest = client.pushBlobInSession("up/single-put", content);

        assertBlob("up/single-put", digest, content);
    }

    @Test
    void put_zeroByteSession_201() {
        String digest = client.pushBlobInSession("up/zero-session", new byte[0]);

        assertBlob("up/zero-session", digest, new byte[0]);
    }

    @Test
    void put_twice_secondIs404UploadUnknown() {
        byte[] content = RegistryClient.randomBytes(100);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/twice");
        HttpResponse<byte[]> first = client.send("PUT", withQuery(location, "digest=" + digest),
                BodyPublishers.ofByteArray(content), "Content-Type", OCTET_STREAM);
        assertEquals(201, first.statusCode(), describe(first));

        assertOciError(client.send("PUT", withQuery(location, "digest=" + digest), BodyPublishers.noBody()),
                404, "BLOB_UPLOAD_UNKNOWN");
        assertOciError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void delete_session_204ThenStatus404() {
        String location = client.startUpload("up/cancel");
        client.patch(location, RegistryClient.randomBytes(100), "Content-Type", OCTET_STREAM, "Content-Range", "0-99");

        HttpResponse<byte[]> r = client.delete(location);

        assertEquals(204, r.statusCode(), describe(r));
        assertOciError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
        assertOciError(client.patch(location, new byte[10], "Content-Type", OCTET_STREAM), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void upload_expired_purgedAnd404() throws Exception {
        gateway.close();
        gateway = TestGateway.start(tmp.resolve("expiring"), Map.of("MIRRORBALL_STORAGE_UPLOADS_EXPIRE_AFTER", "1s"));
        client = gateway.client();
        String location = client.startUpload("up/expire");
        HttpResponse<byte[]> patched = client.patch(location, RegistryClient.randomBytes(100), "Content-Type", OCTET_STREAM,
                "Content-Range", "0-99");
        assertEquals(202, patched.statusCode(), describe(patched));
        location = client.pathOf(header(patched, "Location"));
        String uuid = header(patched, "Docker-Upload-UUID");
        assertTrue(spooled(uuid), "the session spools in the uploads directory " + gateway.uploads());

        Thread.sleep(2500);
        gateway = gateway.restart();                   // the purge runs at start and then periodically
        client = gateway.client();

        long deadline = System.nanoTime() + 10_000_000_000L;
        while (spooled(uuid) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertFalse(spooled(uuid), "the expired session's files are deleted");
        assertOciError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    private boolean spooled(String uuid) throws IOException {
        try (Stream<Path> files = Files.walk(gateway.uploads())) {
            return files.anyMatch(p -> p.toString().contains(uuid));
        }
    }

    @Test
    void concurrentMonolithicUploads_sameBlob_allSucceed() throws Exception {
        byte[] content = RegistryClient.randomBytes(1_000_000);
        String digest = RegistryClient.digestOf(content);
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> new Thread(r, "apitest-upload"));
        try {
            List<Future<HttpResponse<byte[]>>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> client.post("/v2/up/race/blobs/uploads/?digest=" + digest, content,
                        "Content-Type", OCTET_STREAM)));
            }
            for (Future<HttpResponse<byte[]>> result : results) {
                HttpResponse<byte[]> r = result.get(120, TimeUnit.SECONDS);
                assertEquals(201, r.statusCode(), describe(r));
            }
        } finally {
            pool.shutdownNow();
        }
        assertBlob("up/race", digest, content);
    }

    @Test
    void unknownUpload_everyMethod_404UploadUnknown() {
        client.startUpload("up/unknown");
        String path = "/v2/up/unknown/blobs/uploads/" + UUID.randomUUID();
        String digest = RegistryClient.digestOf(new byte[1]);

        assertOciError(client.get(path), 404, "BLOB_UPLOAD_UNKNOWN");
        assertOciError(client.patch(path, new byte[1], "Content-Type", OCTET_STREAM), 404, "BLOB_UPLOAD_UNKNOWN");
        assertOciError(client.send("PUT", path + "?digest=" + digest, BodyPublishers.ofByteArray(new byte[1]),
                "Content-Type", OCTET_STREAM), 404, "BLOB_UPLOAD_UNKNOWN");
        assertOciError(client.delete(path), 404, "BLOB_UPLOAD_UNKNOWN");
    }

    @Test
    void upload_fromAnotherRepository_404UploadUnknown() {
        String location = client.startUpload("up/owner-a");
        String foreign = location.replace("/v2/up/owner-a/", "/v2/up/owner-b/");

        assertOciError(client.get(foreign), 404, "BLOB_UPLOAD_UNKNOWN");
        assertEquals(204, client.get(location).statusCode());
    }

    @Test
    void mount_blobInSourceRepository_201() {
        byte[] content = RegistryClient.randomBytes(3000);
        String digest = client.pushBlob("up/mount-src", content);

        HttpResponse<byte[]> r = client.post("/v2/up/mount-dst/blobs/uploads/?mount=" + digest + "&from=up/mount-src",
                new byte[0]);

        assertEquals(201, r.statusCode(), describe(r));
        assertEquals("/v2/up/mount-dst/blobs/" + digest, client.pathOf(header(r, "Location")).replaceFirst("\\?.*", ""));
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        assertBlob("up/mount-dst", digest, content);
    }

    /** Issue 9: a mount without {@code from} of a blob the registry holds opened a session instead. */
    @Test
    void mount_withoutFrom_blobHeldElsewhere_201() {
        byte[] content = RegistryClient.randomBytes(3000);
        String digest = client.pushBlob("up/mount-anywhere", content);

        HttpResponse<byte[]> r = client.post("/v2/up/mount-nofrom/blobs/uploads/?mount=" + digest, new byte[0]);

        assertEquals(201, r.statusCode(), describe(r));
        assertEquals("/v2/up/mount-nofrom/blobs/" + digest, client.pathOf(header(r, "Location")).replaceFirst("\\?.*", ""));
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        assertBlob("up/mount-nofrom", digest, content);
    }

    @Test
    void mount_withoutFrom_blobUnknown_202Session() {
        String digest = RegistryClient.digestOf(RegistryClient.randomBytes(10));

        HttpResponse<byte[]> r = client.post("/v2/up/mount-nofrom2/blobs/uploads/?mount=" + digest, new byte[0]);

        assertEquals(202, r.statusCode(), describe(r));
        assertOciError(client.get("/v2/up/mount-nofrom2/blobs/" + digest), 404, "BLOB_UNKNOWN");
    }

    /**
     * Issue 9: curl's --data-binary sends application/x-www-form-urlencoded; the container parsed the blob
     * as form parameters, so the monolithic upload failed with 400 SIZE_INVALID.
     */
    @Test
    void postMonolithic_formContentType_bodyIsTheBlob() {
        byte[] content = "a=1&digest=sha256:00&b=%zz\n".repeat(200).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String digest = RegistryClient.digestOf(content);

        HttpResponse<byte[]> r = client.post("/v2/up/form/blobs/uploads/?digest=" + digest, content,
                "Content-Type", "application/x-www-form-urlencoded");

        assertEquals(201, r.statusCode(), describe(r));
        assertBlob("up/form", digest, content);
    }

    /** Issue 9: a form body {@code mount=<digest>&from=<repo>} became a mount: parameters come from the query only. */
    @Test
    void post_formBodyWithMountParameters_notAMount() {
        byte[] content = RegistryClient.randomBytes(100);
        String digest = client.pushBlob("up/form-src", content);
        byte[] body = ("mount=" + digest + "&from=up/form-src").getBytes(java.nio.charset.StandardCharsets.UTF_8);

        HttpResponse<byte[]> r = client.post("/v2/up/form-dst/blobs/uploads/", body,
                "Content-Type", "application/x-www-form-urlencoded");

        assertTrue(r.statusCode() == 202 || r.statusCode() >= 400 && r.statusCode() < 500, describe(r));
        assertOciError(client.get("/v2/up/form-dst/blobs/" + digest), 404, "BLOB_UNKNOWN");
    }

    /** The PUT that closes a session likewise takes its digest from the query, not from a form body. */
    @Test
    void put_formContentType_bodyIsTheLastChunk() {
        byte[] content = ("digest=sha256:" + "0".repeat(64)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String digest = RegistryClient.digestOf(content);
        String location = client.startUpload("up/form-put");

        HttpResponse<byte[]> r = client.send("PUT", withQuery(location, "digest=" + digest),
                BodyPublishers.ofByteArray(content), "Content-Type", "application/x-www-form-urlencoded");

        assertEquals(201, r.statusCode(), describe(r));
        assertBlob("up/form-put", digest, content);
    }

    @Test
    void mount_blobUnknown_202Session() {
        String digest = RegistryClient.digestOf(RegistryClient.randomBytes(10));
        client.pushBlob("up/mount-src2", RegistryClient.randomBytes(10));

        HttpResponse<byte[]> r = client.post("/v2/up/mount-dst2/blobs/uploads/?mount=" + digest + "&from=up/mount-src2",
                new byte[0]);

        assertEquals(202, r.statusCode(), describe(r));
        String location = client.pathOf(header(r, "Location"));
        assertTrue(location.startsWith("/v2/up/mount-dst2/blobs/uploads/"), location);
        assertNotNull(header(r, "Docker-Upload-UUID"));
        assertEquals(204, client.get(location).statusCode(), "the session is usable");
        assertOciError(client.get("/v2/up/mount-dst2/blobs/" + digest), 404, "BLOB_UNKNOWN");
    }

    @Test
    void mount_blobInOtherRepositoryThanFrom_202Session() {
        byte[] content = RegistryClient.randomBytes(100);
        String digest = client.pushBlob("up/holder", content);
        client.pushBlob("up/mount-from", RegistryClient.randomBytes(10));

        HttpResponse<byte[]> r = client.post("/v2/up/mount-dst3/blobs/uploads/?mount=" + digest + "&from=up/mount-from",
                new byte[0]);

        assertEquals(202, r.statusCode(), "from names a repository without the blob: " + describe(r));
    }

    @Test
    void mount_fromInvalidName_neitherMountedNorServerError() {
        byte[] content = RegistryClient.randomBytes(100);
        String digest = client.pushBlob("up/mount-ok", content);

        HttpResponse<byte[]> r = client.post("/v2/up/mount-dst4/blobs/uploads/?mount=" + digest + "&from=../up/Mount",
                new byte[0]);

        assertTrue(r.statusCode() == 202 || r.statusCode() == 400, describe(r));
    }

    @Test
    void mount_badDigest_400DigestInvalidOr202() {
        HttpResponse<byte[]> r = client.post("/v2/up/mount-bad/blobs/uploads/?mount=sha256:xyz&from=up/x", new byte[0]);

        if (r.statusCode() != 202) {
            assertOciError(r, 400, "DIGEST_INVALID");
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static InputStream pattern(long seed, long size) {
        return new InputStream() {
            private final Random random = new Random(seed);
            private final byte[] block = new byte[8192];
            private int pos = block.length;
            private long left = size;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                if (pos == block.length) {
                    random.nextBytes(block);
                    pos = 0;
                }
                int n = (int) Math.min(Math.min(len, block.length - pos), left);
                System.arraycopy(block, pos, b, off, n);
                pos += n;
                left -= n;
                return n;
            }
        };
    }

    private static String digestOfPattern(long seed, long size) {
        MessageDigest sha = RegistryClient.sha256();
        try (InputStream in = pattern(seed, size)) {
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    private void assertStreamedBlob(String repo, String digest, long size) throws IOException {
        HttpResponse<InputStream> r = client.sendStreaming("GET", "/v2/" + repo + "/blobs/" + digest);
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
        assertEquals(size, count);
        assertEquals(digest, "sha256:" + HexFormat.of().formatHex(sha.digest()));
    }
}
