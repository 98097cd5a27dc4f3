package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.EmbeddedNode;
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
}
