package io.mirrorball.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real IPFS node for tests: the js-ipfs daemon of ../shared/ipfs-node, installed by
 * tests/setup.sh into tests/.kit/ipfs-node (or the directory named by the system property
 * {@code mirrorball.ipfsKit} or the environment variable {@code MIRRORBALL_IPFS_KIT}).
 * A missing kit fails the test; it never skips.
 */
public final class KitNode implements AutoCloseable {
    private static final Object LOCK = new Object();
    private static KitNode shared;

    private final Path kit;
    private final Path repo;
    private final int swarmPort;
    private final int apiPort;
    private final Process process;
    private final String peerId;

    private KitNode(Path kit, Path repo) throws IOException, InterruptedException {
        this.kit = kit;
        this.repo = repo;
        this.swarmPort = freePort();
        this.apiPort = freePort();
        int gatewayPort = freePort();
        Path log = repo.resolveSibling(repo.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(kit.resolve("start-node.sh").toString(), repo.toString(),
                String.valueOf(swarmPort), String.valueOf(apiPort), String.valueOf(gatewayPort))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        this.process = pb.start();
        this.peerId = waitReady(log);
    }

    /** One node for the whole test JVM, started on first use and stopped when the JVM exits. */
    public static KitNode shared() {
        synchronized (LOCK) {
            if (shared == null) {
                try {
                    shared = start(Files.createTempDirectory("mb-kit-shared"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                KitNode node = shared;
                Runtime.getRuntime().addShutdownHook(new Thread(node::close, "kit-node-stop"));
            }
            return shared;
        }
    }

    /** A node of its own (for two-node tests), in a fresh repo under {@code dir}. Close it. */
    public static KitNode start(Path dir) {
        try {
            Files.createDirectories(dir);
            return new KitNode(kitDirectory(), dir.resolve("ipfs-repo"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the IPFS test node: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the IPFS test node", e);
        }
    }

    /** The installed kit; throws (fails the test) when it is missing. */
    public static Path kitDirectory() {
        String configured = System.getProperty("mirrorball.ipfsKit", System.getenv("MIRRORBALL_IPFS_KIT"));
        Path kit;
        if (configured != null && !configured.isEmpty()) {
            kit = Path.of(configured);
        } else {
            kit = Path.of(System.getProperty("mirrorball.basedir", ".")).resolve("tests/.kit/ipfs-node");
        }
        if (!Files.isExecutable(kit.resolve("start-node.sh"))
                || !Files.isDirectory(kit.resolve("node_modules/.bin"))) {
            throw new IllegalStateException("IPFS test node kit not installed at " + kit.toAbsolutePath()
                    + ": run tests/setup.sh (copies ../shared/ipfs-node and runs npm ci)");
        }
        return kit.toAbsolutePath();
    }

    /** The RPC base, e.g. {@code http://127.0.0.1:5101} (append /api/v0/...). */
    public URI apiUrl() {
        return URI.create("http://127.0.0.1:" + apiPort);
    }

    public String peerId() {
        return peerId;
    }

    /** The multiaddr another node dials to peer with this one. */
    public String swarmAddress() {
        return "/ip4/127.0.0.1/tcp/" + swarmPort + "/p2p/" + peerId;
    }

    /** Connects this node to another over loopback (bitswap then exchanges blocks). */
    public void connect(KitNode other) {
        rpc("swarm/connect?arg=" + other.swarmAddress());
    }

    /** Calls an RPC with no body and returns the response text; fails on a non-200. */
    public String rpc(String pathAndQuery) {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(apiUrl() + "/api/v0/" + pathAndQuery))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("RPC " + pathAndQuery + " failed: " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Calls an RPC with one multipart file part (add, files/write) and returns the response text. */
    public String rpcWithFile(String pathAndQuery, byte[] content) {
        String boundary = "kit-" + System.nanoTime();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + content.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(content, 0, body, head.length, content.length);
        System.arraycopy(tail, 0, body, head.length + content.length, tail.length);
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(apiUrl() + "/api/v0/" + pathAndQuery))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("RPC " + pathAndQuery + " failed: " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String waitReady(Path log) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Pattern id = Pattern.compile("\"ID\"\\s*:\\s*\"([^\"]+)\"");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("IPFS test node exited with " + process.exitValue() + "; log: "
                        + Files.readString(log));
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(apiUrl() + "/api/v0/id"))
                        .timeout(Duration.ofSeconds(2)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                Matcher m = id.matcher(r.body());
                if (r.statusCode() == 200 && m.find()) {
                    return m.group(1);
                }
            } catch (IOException notYet) {
                // the daemon is still starting: poll again
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        throw new IOException("IPFS test node did not start within 60 s; log: " + Files.readString(log));
    }

    @Override
    public void close() {
        try {
            new ProcessBuilder(kit.resolve("stop-node.sh").toString(), repo.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(15, TimeUnit.SECONDS);
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        process.destroyForcibly();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
