package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.KuboRpcNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stalls of the upstream, with short timeouts: 504 before a response, an aborted stream after. */
final class UpstreamStallTest {
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
        upstream = UpstreamRegistry.open(config, store.blobs(), new UpstreamRegistry.Settings(
                new UpstreamClient.Settings(Duration.ofSeconds(1), Duration.ofMillis(700), 8),
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
        assertThrows(IOException.class, () -> upstream.blob(RepositoryName.parse("slow"), digest, null, false, sink));
        assertTrue(sink.body.size() < content.length, "the client never gets the whole blob");
        Thread.sleep(500);
        assertTrue(store.blobs().stat(digest).isEmpty(), "nothing stored");
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
