package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mirrorball.cli.FsckCommand;
import io.mirrorball.oci.MediaTypes;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 3's crash test at gateway level: the gateway runs as a child JVM ({@code mirrorball serve}
 * on the embedded node) while the test pushes small multi-layer images in two loops, and the child is
 * killed with SIGKILL at a random moment. After every kill the store must pass {@code mirrorball
 * fsck}, and after a restart on the same directories every image whose manifest PUT was answered
 * 201 must pull back byte for byte, by tag and by the CID repository named in X-Ipfs-Path.
 */
final class GatewayCrashTest {
    private static final int ROUNDS = 4;
    /** Concurrent push loops, so that the kill can also land between two interleaved manifest PUTs. */
    private static final int PUSHERS = 2;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;
    private Process child;
    private URI base;
    private int starts;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    /** An image whose manifest PUT was answered 201, with the CID the gateway published it under. */
    private record Acknowledged(String repo, String tag, TestImages.Image image, String cid) {
    }

    @AfterEach
    void killChild() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void killDuringPushLoop_acknowledgedImagesPullIntactAndFsckIsClean() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        System.out.println("GatewayCrashTest seed " + seed);
        List<Acknowledged> acknowledged = new ArrayList<>();
        startChild();
        for (int round = 1; round <= ROUNDS; round++) {
            List<Acknowledged> thisRound = pushLoopUntilKilled(round, random);
            assertTrue(!thisRound.isEmpty(), "round " + round + ": no image was acknowledged before the kill");
            acknowledged.addAll(thisRound);

            assertFsckClean("after the kill of round " + round);
            startChild();
            for (Acknowledged image : acknowledged) {
                assertPullsIntact(image, "after the kill of round " + round);
            }
            System.out.println("GatewayCrashTest round " + round + ": " + thisRound.size() + " acknowledged, "
                    + acknowledged.size() + " in total pull intact");
        }
        child.destroyForcibly();
        child.waitFor(30, TimeUnit.SECONDS);
        assertFsckClean("at the end");
    }

    // ---- the child gateway ----------------------------------------------------------------------

    private void startChild() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        starts++;
        Path log = tmp.resolve("child-" + starts + ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.mirrorball.cli.Main", "serve")
                .directory(tmp.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("MIRRORBALL_"));
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:" + port);
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", "embedded");
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        child = builder.start();
        base = URI.create("http://127.0.0.1:" + port);
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                fail("the gateway exited with " + child.exitValue() + " at start " + starts + ":\n" + tail(log));
            }
            try {
                HttpResponse<byte[]> r = send("GET", "/v2/", null, null);
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        fail("the gateway did not answer GET /v2/ within " + READY_TIMEOUT + ":\n" + tail(log));
    }

    private String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    // ---- push loop and kill ---------------------------------------------------------------------

    /**
     * Pushes images from {@link #PUSHERS} threads until the child dies; a killer thread waits for the
     * first acknowledgement of this round, then a random 0-3 s more, and kills the child mid-loop.
     */
    private List<Acknowledged> pushLoopUntilKilled(int round, Random random) throws Exception {
        List<Acknowledged> done = new CopyOnWriteArrayList<>();
        AtomicInteger attempted = new AtomicInteger();
        long extraDelay = random.nextInt(3000);
        Process victim = child;
        Thread killer = new Thread(() -> {
            try {
                while (done.isEmpty() && victim.isAlive()) {
                    Thread.sleep(10);
                }
                Thread.sleep(extraDelay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            victim.destroyForcibly();
        }, "crash-test-killer-" + round);
        killer.setDaemon(true);
        AtomicInteger threads = new AtomicInteger();
        ExecutorService pushers = Executors.newFixedThreadPool(PUSHERS, r -> {
            Thread t = new Thread(r, "crash-test-pusher-" + round + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        boolean diedMidLoop;
        try {
            killer.start();
            List<Future<?>> loops = new ArrayList<>();
            for (int p = 0; p < PUSHERS; p++) {
                int pusher = p;
                loops.add(pushers.submit(() -> {
                    for (int i = 0; victim.isAlive() && i < 10_000; i++) {
                        attempted.incrementAndGet();
                        String repo = (i % 3 == 0 ? "crash/ns" + round + "/app" : "crash-r" + round) + "-p" + pusher
                                + "-" + i;
                        Acknowledged ack = push(repo, "v" + i, image(i % 3 + 2), victim);
                        if (ack == null) {
                            break; // the child died under this push
                        }
                        done.add(ack);
                    }
                    return null;
                }));
            }
            for (Future<?> loop : loops) {
                try {
                    loop.get(5, TimeUnit.MINUTES);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AssertionError assertion) {
                        throw assertion;
                    }
                    throw e;
                }
            }
            diedMidLoop = victim.waitFor(10, TimeUnit.SECONDS);
        } finally {
            killer.interrupt();
            killer.join(10_000);
            pushers.shutdownNow();
            victim.destroyForcibly();
            assertTrue(victim.waitFor(30, TimeUnit.SECONDS), "the killed gateway did not exit");
        }
        assertTrue(diedMidLoop, "round " + round + ": the loop ended before the kill");
        System.out.println("GatewayCrashTest round " + round + ": killed after " + done.size() + " of "
                + attempted.get() + " pushes (kill " + extraDelay + " ms after the first acknowledgement)");
        return List.copyOf(done);
    }

    /** A config, {@code layers} small layers and one of 300000 bytes (two chunks); OCI manifest. */
    private static TestImages.Image image(int layers) {
        List<TestImages.Blob> blobs = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            blobs.add(TestImages.layer(MediaTypes.OCI_LAYER_TAR_GZIP, 1000 + 4099 * i));
        }
        blobs.add(TestImages.layer(MediaTypes.OCI_LAYER_TAR_GZIP, 300_000));
        return TestImages.manifest(MediaTypes.OCI_MANIFEST, TestImages.config(MediaTypes.OCI_CONFIG), blobs, "");
    }

    /** The acknowledged image, or null when the child died during the push (connection failure). */
    private Acknowledged push(String repo, String tag, TestImages.Image image, Process victim) throws Exception {
        try {
            for (TestImages.Blob blob : image.blobs()) {
                HttpResponse<byte[]> r = send("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + blob.digest(),
                        blob.content(), RegistryClient.OCTET_STREAM);
                if (r.statusCode() != 201) {
                    return unexpected(r, victim);
                }
            }
            HttpResponse<byte[]> r = send("PUT", "/v2/" + repo + "/manifests/" + tag, image.manifest(),
                    image.mediaType());
            if (r.statusCode() != 201) {
                return unexpected(r, victim);
            }
            String ipfsPath = r.headers().firstValue("X-Ipfs-Path").orElse(null);
            assertNotNull(ipfsPath, "X-Ipfs-Path of " + RegistryClient.describe(r));
            assertTrue(ipfsPath.startsWith("/ipfs/"), ipfsPath);
            assertEquals(image.digest(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
            return new Acknowledged(repo, tag, image, ipfsPath.substring("/ipfs/".length()));
        } catch (IOException e) {
            return null; // killed under this request (connection reset or refused)
        }
    }

    /** A failing status is only acceptable from a gateway that is being killed. */
    private static Acknowledged unexpected(HttpResponse<byte[]> r, Process victim) throws InterruptedException {
        if (victim.waitFor(2, TimeUnit.SECONDS)) {
            return null;
        }
        fail("push failed while the gateway was alive: " + RegistryClient.describe(r));
        return null;
    }

    // ---- checks -------------------------------------------------------------------------------

    private void assertPullsIntact(Acknowledged ack, String when) throws Exception {
        String what = ack.repo() + ":" + ack.tag() + " (" + ack.cid() + ") " + when;
        pullAndCompare(ack.repo(), ack.tag(), ack, what + ", by tag");
        pullAndCompare(ack.repo(), ack.image().digest(), ack, what + ", by digest");
        pullAndCompare(ack.cid(), "latest", ack, what + ", by CID repository");
    }

    private void pullAndCompare(String repo, String reference, Acknowledged ack, String what) throws Exception {
        HttpResponse<byte[]> manifest = send("GET", "/v2/" + repo + "/manifests/" + reference, null, null,
                "Accept", ack.image().mediaType());
        assertEquals(200, manifest.statusCode(), what + ": " + RegistryClient.describe(manifest));
        assertArrayEquals(ack.image().manifest(), manifest.body(), what + ": manifest bytes");
        for (TestImages.Blob blob : ack.image().blobs()) {
            HttpResponse<byte[]> r = send("GET", "/v2/" + repo + "/blobs/" + blob.digest(), null, null);
            assertEquals(200, r.statusCode(), what + ": blob " + blob.digest() + ": " + RegistryClient.describe(r));
            assertArrayEquals(blob.content(), r.body(), what + ": bytes of blob " + blob.digest());
        }
    }

    private void assertFsckClean(String when) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine fsck = new CommandLine(new FsckCommand());
        fsck.setOut(new PrintWriter(out, true));
        fsck.setErr(new PrintWriter(err, true));
        int exit = fsck.execute("--path", tmp.resolve("ipfs").toString());
        String report = out + err.toString();
        assertEquals(0, exit, "mirrorball fsck " + when + ":\n" + report);
        assertTrue(report.contains(", 0 missing, 0 corrupt"), "fsck report " + when + ":\n" + report);
        Iterator<String> lines = report.lines().iterator();
        while (lines.hasNext()) {
            String line = lines.next();
            assertTrue(!line.startsWith("missing ") && !line.startsWith("corrupt "), "fsck " + when + ": " + line);
        }
        System.out.println("GatewayCrashTest " + when + ": " + report.strip());
    }

    private HttpResponse<byte[]> send(String method, String path, byte[] body, String contentType, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
