package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class UploadStoreTest {
    private static final RepositoryName NAME = RepositoryName.parse("team/app");
    @TempDir
    Path tmp;
    private EmbeddedNode node;
    private RegistryStore store;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

    @BeforeEach
    void open() throws IOException {
        node = EmbeddedNode.open(tmp.resolve("ipfs"));
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        store = RegistryStore.open(node, "/r", tmp.resolve("uploads"), Duration.ofHours(24), clock);
    }

    @AfterEach
    void close() throws IOException {
        store.close();
        node.close();
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void purgeExpired_removesOnlySessionsOlderThanExpireAfter() throws IOException {
        UploadSession session = store.uploads().start(NAME);
        store.uploads().append(session, bytes("abc"), 0L, 3L);
        assertEquals(0, store.uploads().purgeExpired(), "a fresh session stays");
        now.set(now.get().plus(Duration.ofHours(23)));
        assertEquals(0, store.uploads().purgeExpired(), "23 h later it still stays");
        now.set(now.get().plus(Duration.ofHours(2)));
        assertEquals(1, store.uploads().purgeExpired(), "25 h later it is purged");
        OciException e = assertThrows(OciException.class, () -> store.uploads().get(NAME, session.uuid()));
        assertEquals(OciErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
    }

    @Test
    void append_outOfOrder_isRefusedAndKeepsWhatWasThere() throws IOException {
        UploadSession session = store.uploads().start(NAME);
        session = store.uploads().append(session, bytes("hello "), 0L, 6L);
        UploadSession current = session;
        OciException repeated = assertThrows(OciException.class,
                () -> store.uploads().append(current, bytes("hello "), 0L, 6L));
        assertEquals(416, repeated.code().status());
        assertEquals("0-5", repeated.headers().get("Range"));
        session = store.uploads().append(session, bytes("world"), 6L, 5L);
        assertEquals(11, session.size());
        byte[] all = "hello world".getBytes(StandardCharsets.UTF_8);
        BlobInfo blob = store.uploads().complete(session, Digest.ofBytes(all));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.blobs().copyTo(blob, out);
        assertArrayEquals(all, out.toByteArray());
        assertTrue(store.blobs().stat(NAME, Digest.ofBytes(all)).isPresent(), "linked into the repository");
    }

    @Test
    void complete_wrongDigest_isDigestInvalidAndStoresNothing() throws IOException {
        UploadSession session = store.uploads().start(NAME);
        session = store.uploads().append(session, bytes("payload"), null, null);
        Digest wrong = Digest.ofBytes("other".getBytes(StandardCharsets.UTF_8));
        UploadSession s = session;
        OciException e = assertThrows(OciException.class, () -> store.uploads().complete(s, wrong));
        assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
        assertTrue(store.blobs().stat(wrong).isEmpty());
        assertTrue(store.blobs().stat(Digest.ofBytes("payload".getBytes(StandardCharsets.UTF_8))).isEmpty());
    }

    @Test
    void sessions_surviveARestart_theDigestIsRecomputedFromTheSpool() throws IOException {
        UploadSession session = store.uploads().start(NAME);
        store.uploads().append(session, bytes("part one, "), 0L, null);
        store.close();
        store = RegistryStore.open(node, "/r", tmp.resolve("uploads"), Duration.ofHours(24), Clock.systemUTC());
        OciException other = assertThrows(OciException.class,
                () -> store.uploads().get(RepositoryName.parse("other"), session.uuid()));
        assertEquals(OciErrorCode.BLOB_UPLOAD_UNKNOWN, other.code(), "a session belongs to its repository");
        UploadSession resumed = store.uploads().get(NAME, session.uuid());
        assertEquals(10, resumed.size());
        resumed = store.uploads().append(resumed, bytes("part two"), 10L, null);
        byte[] all = "part one, part two".getBytes(StandardCharsets.UTF_8);
        assertEquals(Digest.ofBytes(all), store.uploads().complete(resumed, Digest.ofBytes(all)).digest());
    }

    private static byte[] random(int size, long seed) {
        byte[] content = new byte[size];
        new java.util.Random(seed).nextBytes(content);
        return content;
    }

    private static InputStream slice(byte[] content, int from, int to) {
        return new ByteArrayInputStream(content, from, to - from);
    }

    private void assertStoredAsAdded(BlobInfo blob, byte[] content) throws IOException {
        assertEquals(node.add(new ByteArrayInputStream(content)).cid(), blob.cid(), "the CID of add of the same bytes");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.blobs().copyTo(blob, out);
        assertArrayEquals(content, out.toByteArray());
    }

    @Test
    void chunkedUpload_isAddedWhileItArrives_andCompletesFromThatAdd() throws IOException {
        byte[] content = random(3 * 262_144 + 12_345, 1);
        UploadSession session = store.uploads().start(NAME);
        session = store.uploads().append(session, slice(content, 0, 100_000), 0L, 100_000L);
        assertEquals(1, store.uploads().streamingAdds());
        session = store.uploads().append(session, slice(content, 100_000, 600_000), 100_000L, 500_000L);
        session = store.uploads().append(session, slice(content, 600_000, content.length), 600_000L, null);

        BlobInfo blob = store.uploads().complete(session, Digest.ofBytes(content));

        assertEquals(1, store.uploads().completedWhileStreaming());
        assertEquals(0, store.uploads().streamingAdds(), "the permit is given back");
        assertStoredAsAdded(blob, content);
    }

    @Test
    void chunkCutShort_dropsTheRunningAdd_andTheFileIsAddedAtCompletion() throws IOException {
        byte[] content = random(700_000, 2);
        UploadSession session = store.uploads().start(NAME);
        session = store.uploads().append(session, slice(content, 0, 300_000), 0L, null);
        UploadSession current = session;
        OciException shortChunk = assertThrows(OciException.class,
                () -> store.uploads().append(current, slice(content, 300_000, 400_000), 300_000L, 200_000L));
        assertEquals(OciErrorCode.SIZE_INVALID, shortChunk.code());
        assertEquals(0, store.uploads().streamingAdds(), "the add that saw bytes the spool no longer holds is dropped");
        session = store.uploads().append(session, slice(content, 300_000, content.length), 300_000L, null);

        BlobInfo blob = store.uploads().complete(session, Digest.ofBytes(content));

        assertEquals(0, store.uploads().completedWhileStreaming());
        assertStoredAsAdded(blob, content);
    }

    @Test
    void wrongDigest_afterARunningAdd_placesNothing_andAFixedRetryWorks() throws IOException {
        byte[] content = random(400_000, 3);
        UploadSession session = store.uploads().start(NAME);
        session = store.uploads().append(session, slice(content, 0, content.length), 0L, null);
        UploadSession s = session;
        Digest wrong = Digest.ofBytes("not it".getBytes(StandardCharsets.UTF_8));
        assertEquals(OciErrorCode.DIGEST_INVALID,
                assertThrows(OciException.class, () -> store.uploads().complete(s, wrong)).code());
        assertTrue(store.blobs().stat(wrong).isEmpty());
        assertTrue(store.blobs().stat(Digest.ofBytes(content)).isEmpty());
        assertEquals(0, store.uploads().streamingAdds());

        BlobInfo blob = store.uploads().complete(session, Digest.ofBytes(content));
        assertStoredAsAdded(blob, content);
    }

    @Test
    void moreUploadsThanPermits_theRestAreAddedAtCompletion() throws IOException {
        java.util.List<UploadSession> sessions = new java.util.ArrayList<>();
        java.util.List<byte[]> contents = new java.util.ArrayList<>();
        for (int i = 0; i < UploadStore.MAX_STREAMING_ADDS + 2; i++) {
            byte[] content = random(1_000 + i, 10 + i);
            contents.add(content);
            sessions.add(store.uploads().append(store.uploads().start(NAME), slice(content, 0, content.length), 0L, null));
        }
        assertEquals(UploadStore.MAX_STREAMING_ADDS, store.uploads().streamingAdds());
        for (int i = 0; i < sessions.size(); i++) {
            assertStoredAsAdded(store.uploads().complete(sessions.get(i), Digest.ofBytes(contents.get(i))), contents.get(i));
        }
        assertEquals(UploadStore.MAX_STREAMING_ADDS, store.uploads().completedWhileStreaming());
        assertEquals(0, store.uploads().streamingAdds());
    }

    @Test
    void cancelAndPurge_giveThePermitBack() throws IOException {
        UploadSession cancelled = store.uploads().append(store.uploads().start(NAME), bytes("abc"), 0L, null);
        store.uploads().append(store.uploads().start(NAME), bytes("def"), 0L, null);
        assertEquals(2, store.uploads().streamingAdds());
        store.uploads().cancel(cancelled);
        assertEquals(1, store.uploads().streamingAdds());
        now.set(now.get().plus(Duration.ofHours(25)));
        assertEquals(1, store.uploads().purgeExpired());
        assertEquals(0, store.uploads().streamingAdds());
    }

    @Test
    void cancelDuringAWrite_doesNotWaitForTheClient_andTheWriteDropsItsAdd() throws Exception {
        UploadSession session = store.uploads().start(NAME);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        InputStream slowClient = new InputStream() {
            private boolean sent;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (!sent) {
                    sent = true;
                    java.util.Arrays.fill(b, off, off + len, (byte) 7);
                    return len;
                }
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                return -1;
            }
        };
        java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<UploadSession> write =
                    writer.submit(() -> store.uploads().append(session, slowClient, 0L, null));
            assertTrue(started.await(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, store.uploads().streamingAdds());
            java.util.concurrent.Future<?> cancel = java.util.concurrent.Executors.newSingleThreadExecutor()
                    .submit(() -> {
                        store.uploads().cancel(session);
                        return null;
                    });
            cancel.get(5, java.util.concurrent.TimeUnit.SECONDS); // does not wait for the stalled client
            release.countDown();
            try {
                write.get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException ignored) {
                // the session's files are gone: the write may fail, which is fine
            }
            assertEquals(0, store.uploads().streamingAdds(), "the write dropped the add of the cancelled upload");
        } finally {
            release.countDown();
            writer.shutdownNow();
        }
    }
}
