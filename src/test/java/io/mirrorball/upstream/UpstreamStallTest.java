package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.kubo.KuboRpcNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stalls, trickles and endless bodies of the upstream, with short deadlines: 504 before a response, an
 * aborted stream after, and nothing left behind (no spool file, nothing stored).
 */
final class UpstreamStallTest {
    /** The total deadline of a document exchange in these tests. */
    private static final Duration DEADLINE = Duration.ofMillis(1500);

    @TempDir
    Path tmp;
    private FakeUpstream fake;
    private KuboRpcNode node;
    private RegistryStore store;
    private UpstreamRegistry upstream;

    @BeforeEach
    void setUp() throws Exception {
        fake = FakeUpstream.start();
        node = KuboRpcNode.connect(KuboNode.shared().apiUrl(), Duration.ofSeconds(3), Duration.ofSeconds(30));
        store = RegistryStore.open(node, "/t-" + UUID.randomUUID(), tmp.resolve("uploads"), Duration.ofHours(1),
                Clock.systemUTC());
        MirrorballConfig.Upstream config = new MirrorballConfig.Upstream(fake.uri().toString(), "", "",
                Duration.ofMinutes(5), true, false);
        upstream = UpstreamRegistry.open(config, store.blobs(), store.upstreamTags(), new UpstreamRegistry.Settings(
                new UpstreamClient.Settings(Duration.ofSeconds(1), Duration.ofMillis(700), 8, DEADLINE,
                        Duration.ofMillis(500), 32 * 1024),
                Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(5), 4, Ticker.systemTicker(),
                tmp.resolve("spool")));
    }

    @AfterEach
    void tearDown() throws Exception {
        upstream.close();
        store.close();
        node.close();
        fake.close();
    }

    @Test
    void manifest_upstreamStallsBeforeAnswering_gatewayTimeout() {
        fake.on("/v2/slow/manifests/v1", (method, socket, out) -> Thread.sleep(5000));
        long start = System.nanoTime();
        OciException e = assertThrows(OciException.class,
                () -> upstream.manifest(RepositoryName.parse("slow"), Reference.ofTag("v1"), false));
        assertEquals(OciErrorCode.GATEWAY_TIMEOUT, e.code());
        assertEquals(504, e.code().status());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(4).toNanos(), "the read timeout, not the stall");
    }

    @Test
    void blob_upstreamStallsMidBody_streamFailsAndNothingStored() throws Exception {
        byte[] content = new byte[512 * 1024];
        new java.util.Random(3).nextBytes(content);
        Digest digest = Digest.ofBytes(content);
        fake.on("/v2/slow/blobs/" + digest, (method, socket, out) -> {
            FakeUpstream.writeHead(out, 200, Map.of("Content-Type", "application/octet-stream"), content.length);
            out.write(content, 0, 200 * 1024);
            out.flush();
            Thread.sleep(5000);
        });
        Sink sink = new Sink();
        OciException e = assertThrows(OciException.class,
                () -> upstream.blob(RepositoryName.parse("slow"), digest, false, sink));
        assertEquals(OciErrorCode.GATEWAY_TIMEOUT, e.code());
        assertTrue(sink.body.size() < content.length, "the client never gets the whole blob");
        Thread.sleep(500);
        assertTrue(store.blobs().stat(digest).isEmpty(), "nothing stored");
        assertNoSpoolFiles();
    }

    /** Writes a response head and then one byte every {@code pauseMillis} until the client goes away. */
    private static FakeUpstream.Handler trickle(int status, Map<String, String> headers, long length, int pauseMillis) {
        return (method, socket, out) -> {
            FakeUpstream.writeHead(out, status, headers, length);
            for (long i = 0; i < length; i++) {
                out.write('x');
                out.flush();
                Thread.sleep(pauseMillis);
            }
        };
    }

    /** A chunked body that never ends, 64 KiB per chunk, until the client goes away. */
    private static FakeUpstream.Handler endless(Map<String, String> headers) {
        return (method, socket, out) -> {
            StringBuilder head = new StringBuilder("HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            while (true) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        };
    }

    private void assertNoSpoolFiles() throws IOException {
        try (Stream<Path> files = Files.walk(tmp.resolve("spool"))) {
            List<Path> parts = files.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
            assertEquals(List.of(), parts, "no spool file of a failed transfer stays behind");
        }
    }

    private static long elapsedMillis(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void manifest_trickledOneByteAtATime_gatewayTimeoutAtTheDeadline() {
        // each byte comes well within the read timeout (700 ms): only a total deadline ends this
        fake.on("/v2/slow/manifests/v1", trickle(200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST), 100_000, 100));
        long start = System.nanoTime();
        OciException e = assertThrows(OciException.class,
                () -> upstream.manifest(RepositoryName.parse("slow"), Reference.ofTag("v1"), false));
        assertEquals(OciErrorCode.GATEWAY_TIMEOUT, e.code());
        assertTrue(elapsedMillis(start) < 10_000, "ended by the deadline, not by the body: " + elapsedMillis(start));
        assertFalse(e.getMessage().contains(fake.uri().getHost() + ":"), "no upstream URL: " + e.getMessage());
    }

    @Test
    void manifest_endlessBody_cappedAtFourMebibytes() {
        fake.on("/v2/big/manifests/v1", endless(Map.of("Content-Type", MediaTypes.OCI_MANIFEST)));
        OciException e = assertThrows(OciException.class,
                () -> upstream.manifest(RepositoryName.parse("big"), Reference.ofTag("v1"), false));
        assertEquals(OciErrorCode.MANIFEST_TOO_LARGE, e.code());
    }

    @Test
    void manifest_endlessErrorBody_cutAndPassedOn() {
        fake.on("/v2/err/manifests/v1", (method, socket, out) -> {
            StringBuilder head = new StringBuilder("HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n"
                    + "Content-Type: application/json\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) ' ');
            while (true) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        });
        UpstreamErrorException e = assertThrows(UpstreamErrorException.class,
                () -> upstream.manifest(RepositoryName.parse("err"), Reference.ofTag("v1"), false));
        assertEquals(500, e.status());
        // cut at the cap and the connection dropped, not read on until the deadline broke it
        assertEquals(64 * 1024, e.body().length);
    }

    @Test
    void token_trickledTokenResponse_gatewayTimeoutAndNextRequestAsksAgain() {
        String realm = fake.uri() + "/token";
        fake.on("/v2/auth/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 401,
                Map.of("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"fake\"",
                        "Content-Type", "application/json"), "{\"errors\":[]}".getBytes(StandardCharsets.UTF_8)));
        fake.on("/token", trickle(200, Map.of("Content-Type", "application/json"), 100_000, 100));
        OciException e = assertThrows(OciException.class,
                () -> upstream.manifest(RepositoryName.parse("auth"), Reference.ofTag("v1"), false));
        assertEquals(OciErrorCode.GATEWAY_TIMEOUT, e.code());
        assertThrows(OciException.class,
                () -> upstream.manifest(RepositoryName.parse("auth"), Reference.ofTag("v1"), false));
        assertEquals(2, fake.count("/v2/auth/manifests/v1"), "the failed challenge was not remembered");
    }

    @Test
    void blob_trickledBody_abortedByMinimumProgressAndNothingLeft() throws Exception {
        byte[] content = new byte[512 * 1024];
        Digest digest = Digest.ofBytes(content);
        fake.on("/v2/slow/blobs/" + digest, trickle(200, Map.of(), content.length, 50));
        Sink sink = new Sink();
        long start = System.nanoTime();
        OciException e = assertThrows(OciException.class,
                () -> upstream.blob(RepositoryName.parse("slow"), digest, false, sink));
        assertEquals(OciErrorCode.GATEWAY_TIMEOUT, e.code());
        assertTrue(elapsedMillis(start) < 10_000, "ended by the progress guard: " + elapsedMillis(start));
        assertEquals(0, sink.body.size(), "not one byte of an unverified blob");
        assertTrue(store.blobs().stat(digest).isEmpty(), "nothing stored");
        assertNoSpoolFiles();
    }

    @Test
    void blob_endlessBody_boundedByTheSizeItsManifestDeclares() throws Exception {
        byte[] layer = new byte[1000];
        Digest layerDigest = Digest.ofBytes(layer);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Digest.ofBytes(new byte[2]) + "\",\"size\":2},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                + layerDigest + "\",\"size\":1000}]}").getBytes(StandardCharsets.UTF_8);
        fake.on("/v2/app/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", MediaTypes.OCI_MANIFEST), manifest));
        fake.on("/v2/app/blobs/" + layerDigest, endless(Map.of()));
        upstream.manifest(RepositoryName.parse("app"), Reference.ofTag("v1"), false);
        Sink sink = new Sink();
        OciException e = assertThrows(OciException.class,
                () -> upstream.blob(RepositoryName.parse("app"), layerDigest, false, sink));
        assertEquals(OciErrorCode.BAD_GATEWAY, e.code());
        assertTrue(e.getMessage().contains("more than the 1000 bytes"), e.getMessage());
        assertEquals(0, sink.body.size());
        assertTrue(store.blobs().stat(layerDigest).isEmpty(), "nothing stored");
        assertNoSpoolFiles();
    }

    @Test
    void blob_endlessBodyOfUnknownSize_refusedBeforeAnyByte() throws Exception {
        Digest digest = Digest.ofBytes(new byte[10]);
        fake.on("/v2/app/blobs/" + digest, endless(Map.of()));
        Sink sink = new Sink();
        OciException e = assertThrows(OciException.class,
                () -> upstream.blob(RepositoryName.parse("app"), digest, false, sink));
        assertEquals(OciErrorCode.BAD_GATEWAY, e.code());
        assertTrue(e.getMessage().contains("did not declare"), e.getMessage());
        assertEquals(0, sink.status, "nothing was answered yet: the client gets a clean 502");
        assertNoSpoolFiles();
    }

    @Test
    void mirrorSpool_leftoversOfAGoneInstance_deletedAtStart() throws Exception {
        Path spool = tmp.resolve("spool");
        try (Stream<Path> dirs = Files.list(spool)) {
            assertEquals(1, dirs.count(), "one folder: this instance's");
        }
        Path gone = Files.createDirectories(spool.resolve("gone-instance"));
        Files.write(gone.resolve("mirror-1.part"), new byte[1024]);
        Files.write(gone.resolve(".lock"), new byte[0]);
        MirrorballConfig.Upstream config = new MirrorballConfig.Upstream(fake.uri().toString(), "", "",
                Duration.ofMinutes(5), true, false);
        try (UpstreamRegistry second = UpstreamRegistry.open(config, store.blobs(), store.upstreamTags(), spool)) {
            assertFalse(Files.exists(gone), "a folder whose lock is free is swept");
            try (Stream<Path> dirs = Files.list(spool)) {
                assertEquals(2, dirs.count(), "the running instance's folder stays, and the second one's is new");
            }
        }
        try (Stream<Path> dirs = Files.list(spool)) {
            assertEquals(1, dirs.count(), "a closed instance deletes its own folder");
        }
    }

    static final class Sink implements ResponseSink {
        int status;
        long length = -1;
        final Map<String, String> headers = new java.util.LinkedHashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        public void status(int status) {
            this.status = status;
        }

        @Override
        public void header(String name, String value) {
            headers.put(name, value);
        }

        @Override
        public void contentLength(long length) {
            this.length = length;
        }

        @Override
        public OutputStream body() {
            return body;
        }
    }
}
