package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mirrorball.oci.Digest;
import io.mirrorball.upstream.FakeUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that join a cold blob's upstream fetch in flight stream from the leader's spool while the fetch
 * runs; when the fetch fails, every one of them ends short. The fake upstream holds the body at its half
 * until every client has bytes, so "while the fetch runs" is an event ordering, not a time.
 */
final class BlobJoinersTest {
    private static final int SIZE = 8 * 1024 * 1024;
    private static final int JOINERS = 4;
    /** The range a joiner asks for, inside the half the upstream sends before it holds. */
    private static final int RANGE_END = 1024 * 1024 - 1;

    @TempDir
    Path tmp;
    private FakeUpstream fake;
    private TestGateway gateway;
    private ExecutorService pool;

    @BeforeEach
    void setUp() throws Exception {
        fake = FakeUpstream.start();
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", fake.uri().toString()));
        pool = Executors.newFixedThreadPool(JOINERS + 2);
    }

    @AfterEach
    void tearDown() throws Exception {
        pool.shutdownNow();
        gateway.close();
        fake.close();
    }

    private static byte[] random(int size, long seed) {
        byte[] content = new byte[size];
        new Random(seed).nextBytes(content);
        return content;
    }

    /** A client's pull: its status and body, and whether the body ended in a broken connection. */
    private record Pull(int status, byte[] body, boolean broken) {
    }

    /** Pulls {@code path}, counting {@code gotBytes} down at the first byte of the body. */
    private Pull pull(String path, CountDownLatch gotBytes, String... headers) throws IOException {
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", path, headers);
        // the body is at most SIZE: held in memory by the test only
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean first = true;
        try (InputStream in = r.body()) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                body.write(buffer, 0, n);
                if (first) {
                    first = false;
                    gotBytes.countDown();
                }
            }
        } catch (IOException e) {
            return new Pull(r.statusCode(), body.toByteArray(), true);
        }
        return new Pull(r.statusCode(), body.toByteArray(), false);
    }

    /**
     * Starts the leader's pull, waits for its first byte (so it is the leader), then the joiners: whole
     * blobs and one range. Returns the leader's pull first, the range last.
     */
    private List<Future<Pull>> pullAll(String path, CountDownLatch gotBytes) throws Exception {
        List<Future<Pull>> pulls = new ArrayList<>();
        CountDownLatch leaderHasBytes = new CountDownLatch(1);
        pulls.add(pool.submit(() -> {
            CountDownLatch both = new CountDownLatch(1);
            pool.submit(() -> {
                both.await();
                leaderHasBytes.countDown();
                gotBytes.countDown();
                return null;
            });
            return pull(path, both);
        }));
        assertTrue(leaderHasBytes.await(60, TimeUnit.SECONDS), "the leader streams before the fetch ends");
        for (int i = 0; i < JOINERS - 1; i++) {
            pulls.add(pool.submit(() -> pull(path, gotBytes)));
        }
        pulls.add(pool.submit(() -> pull(path, gotBytes, "Range", "bytes=0-" + RANGE_END)));
        return pulls;
    }

    /** Waits (at most 30 s) until no spool file is left: every reader is done and the leader with it. */
    private void awaitSpoolEmpty() throws Exception {
        Path spool = gateway.uploads().resolve("mirror");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<Path> parts;
            try (Stream<Path> files = Files.walk(spool)) {
                parts = files.filter(f -> f.getFileName().toString().endsWith(".part")).toList();
            }
            if (parts.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("spool files left behind: " + parts);
            }
            Thread.sleep(100);
        }
    }

    /** Sends half of {@code body}, waits for {@code gotBytes} (every client has bytes), then the rest (or a reset). */
    private FakeUpstream.Handler holdAtHalf(byte[] body, CountDownLatch gotBytes, boolean cut,
                                            AtomicBoolean heldAll) {
        return (method, socket, out) -> {
            FakeUpstream.writeHead(out, 200, Map.of("Content-Type", "application/octet-stream"), body.length);
            out.write(body, 0, body.length / 2);
            out.flush();
            heldAll.set(gotBytes.await(60, TimeUnit.SECONDS));
            if (cut) {
                FakeUpstream.reset(socket);
                return;
            }
            out.write(body, body.length / 2, body.length - body.length / 2);
            out.flush();
        };
    }

    @Test
    void joiners_fetchInFlight_everyClientStreamsBeforeItEndsFromOneUpstreamGet() throws Exception {
        byte[] content = random(SIZE, 1);
        Digest digest = Digest.ofBytes(content);
        String path = "/v2/joined/blobs/" + digest;
        CountDownLatch gotBytes = new CountDownLatch(JOINERS + 1);
        AtomicBoolean heldAll = new AtomicBoolean();
        fake.on(path, holdAtHalf(content, gotBytes, false, heldAll));
        List<Future<Pull>> pulls = pullAll(path, gotBytes);
        for (int i = 0; i < pulls.size() - 1; i++) {
            Pull pull = pulls.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(200, pull.status());
            assertArrayEquals(content, pull.body(), "client " + i + " got the blob");
        }
        Pull range = pulls.get(pulls.size() - 1).get(120, TimeUnit.SECONDS);
        assertEquals(206, range.status());
        assertArrayEquals(Arrays.copyOfRange(content, 0, RANGE_END + 1), range.body(), "the joiner's range");
        assertTrue(heldAll.get(), "every client had bytes while the upstream still held the second half");
        assertEquals(1, fake.count(path), "one upstream GET");
        // a later pull is served from IPFS
        assertEquals(content.length, pull(path, new CountDownLatch(1)).body().length);
        assertEquals(1, fake.count(path), "still one upstream GET");
        awaitSpoolEmpty();
    }

    @Test
    void joiners_leadersClientGoesAway_joinersStillGetTheWholeBlob() throws Exception {
        byte[] content = random(SIZE, 4);
        Digest digest = Digest.ofBytes(content);
        String path = "/v2/deserted/blobs/" + digest;
        CountDownLatch leaderGone = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        fake.on(path, holdAtHalf(content, leaderGone, false, held));
        CountDownLatch leaderHasBytes = new CountDownLatch(1);
        CountDownLatch joinersHaveBytes = new CountDownLatch(JOINERS);
        Future<Boolean> leader = pool.submit(() -> {
            HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", path);
            try (InputStream in = r.body()) {
                assertTrue(in.read(new byte[65536]) > 0);
                leaderHasBytes.countDown();
                // hangs up once the joiners stream: closing the body before its end closes the connection
                return joinersHaveBytes.await(60, TimeUnit.SECONDS);
            } finally {
                leaderGone.countDown();
            }
        });
        assertTrue(leaderHasBytes.await(60, TimeUnit.SECONDS), "the leader streams");
        List<Future<Pull>> joiners = new ArrayList<>();
        for (int i = 0; i < JOINERS; i++) {
            joiners.add(pool.submit(() -> pull(path, joinersHaveBytes)));
        }
        assertTrue(leader.get(60, TimeUnit.SECONDS), "the joiners streamed before the leader's client left");
        for (Future<Pull> joiner : joiners) {
            Pull pull = joiner.get(120, TimeUnit.SECONDS);
            assertEquals(200, pull.status());
            assertArrayEquals(content, pull.body(), "a joiner got the whole blob although the leader's client left");
        }
        assertTrue(held.get());
        assertEquals(1, fake.count(path), "one upstream GET");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cut", "wrong"})
    void joiners_upstreamFailsMidBody_everyBodyEndsShortNothingStoredLaterPullWorks(String fault)
            throws Exception {
        byte[] right = random(SIZE, 2);
        Digest digest = Digest.ofBytes(right);
        String path = "/v2/failing/blobs/" + digest;
        CountDownLatch gotBytes = new CountDownLatch(JOINERS + 1);
        AtomicBoolean heldAll = new AtomicBoolean();
        boolean cut = fault.equals("cut");
        fake.on(path, holdAtHalf(cut ? right : random(SIZE, 3), gotBytes, cut, heldAll));
        List<Future<Pull>> pulls = pullAll(path, gotBytes);
        for (int i = 0; i < pulls.size(); i++) {
            Pull pull = pulls.get(i).get(120, TimeUnit.SECONDS);
            int expected = i == pulls.size() - 1 ? RANGE_END + 1 : SIZE;
            assertTrue(pull.body().length < expected, "client " + i + " ended short: " + pull.body().length);
            assertTrue(pull.body().length > 0, "client " + i + " had streamed");
        }
        assertTrue(heldAll.get(), "every client had bytes before the fault");
        assertEquals(1, fake.count(path), "one upstream GET; no client retried after it had bytes");
        awaitSpoolEmpty();
        // nothing was stored: the next pull goes upstream again, and gets the right bytes
        fake.on(path, (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "application/octet-stream"), right));
        Pull again = pull(path, new CountDownLatch(1));
        assertEquals(200, again.status());
        assertArrayEquals(right, again.body());
        assertEquals(2, fake.count(path));
    }
}
