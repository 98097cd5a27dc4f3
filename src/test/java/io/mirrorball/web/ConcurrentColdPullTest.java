package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.AccessLog;
import io.mirrorball.testing.DockerRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 50 concurrent cold pulls of one 256 MiB blob from a real upstream (Debian's docker-registry): one
 * upstream GET, every copy correct, and every client streams while that GET is still running. The leader's
 * client stops reading after its first bytes until every joiner has bytes, so the upstream GET cannot end
 * meanwhile (the gateway reads the upstream at its client's pace, and 256 MiB do not fit in socket
 * buffers); the registry logs a request when it completed, so its log shows that it had not.
 */
final class ConcurrentColdPullTest {
    private static final int CLIENTS = 50;
    private static final long SIZE = 256L * 1024 * 1024;

    @TempDir
    Path tmp;
    private DockerRegistry registry;
    private TestGateway gateway;
    private ExecutorService pool;
    private Digest digest;

    @BeforeEach
    void setUp() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        digest = push("big/blob", randomFile(tmp.resolve("blob"), SIZE));
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
        pool = Executors.newFixedThreadPool(CLIENTS);
    }

    @AfterEach
    void tearDown() throws Exception {
        pool.shutdownNow();
        if (gateway != null) {
            gateway.close();
        }
        registry.close();
    }

    private static Path randomFile(Path file, long size) throws IOException {
        Random random = new Random(256);
        byte[] buffer = new byte[1024 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += buffer.length) {
                random.nextBytes(buffer);
                out.write(buffer);
            }
        }
        return file;
    }

    /** Pushes the file as a blob (one session, one PUT streamed from the file); returns its digest. */
    private Digest push(String repo, Path file) throws Exception {
        Digest pushed = Digest.parse("sha256:" + sha256(Files.newInputStream(file)));
        RegistryClient upstream = new RegistryClient(registry.uri(), Duration.ofMinutes(5));
        String location = upstream.startUpload(repo);
        HttpResponse<byte[]> r = upstream.send(upstream.request(RegistryClient.withQuery(location, "digest=" + pushed),
                        "Content-Type", RegistryClient.OCTET_STREAM)
                .PUT(HttpRequest.BodyPublishers.ofFile(file)).build());
        RegistryClient.expect(r, 201, "push the big blob");
        return pushed;
    }

    private static String sha256(InputStream stream) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = stream) {
            byte[] buffer = new byte[256 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Pulls the blob and returns its sha256; runs {@code atFirstByte} when the first bytes arrived. */
    private String pull(String path, Runnable atFirstByte) throws Exception {
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", path);
        assertEquals(200, r.statusCode());
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = r.body()) {
            byte[] buffer = new byte[256 * 1024];
            boolean first = true;
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
                if (first) {
                    first = false;
                    atFirstByte.run();
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void fiftyConcurrentColdPulls_oneUpstreamGetAndEveryClientStreamsWhileItRuns() throws Exception {
        AccessLog log = new AccessLog(registry.log());
        String path = "/v2/big/blob/blobs/" + digest;
        CountDownLatch leaderHasBytes = new CountDownLatch(1);
        CountDownLatch joinersHaveBytes = new CountDownLatch(CLIENTS - 1);
        AtomicLong upstreamGetsDoneWhenAllStreamed = new AtomicLong(-1);
        List<Future<String>> pulls = new ArrayList<>();
        pulls.add(pool.submit(() -> pull(path, () -> {
            leaderHasBytes.countDown();
            try {
                if (joinersHaveBytes.await(120, TimeUnit.SECONDS)) {
                    upstreamGetsDoneWhenAllStreamed.set(log.count("GET", path + " "));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })));
        assertTrue(leaderHasBytes.await(60, TimeUnit.SECONDS), "the leader's client streams");
        for (int i = 1; i < CLIENTS; i++) {
            pulls.add(pool.submit(() -> pull(path, joinersHaveBytes::countDown)));
        }
        for (int i = 0; i < CLIENTS; i++) {
            assertEquals(digest.hex(), pulls.get(i).get(10, TimeUnit.MINUTES), "client " + i + "'s copy");
        }
        assertEquals(0, upstreamGetsDoneWhenAllStreamed.get(),
                "every client had bytes while the upstream GET was still running (-1: some never had, in 120 s)");
        assertEquals(1, log.settledCount("GET", path + " "), "upstream GETs of the blob");
    }
}
