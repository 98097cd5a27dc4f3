package io.mirrorball.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real IPFS node for tests: a Kubo daemon ({@code ipfs daemon}) in a repo of its own, on loopback.
 *
 * <p>The binary is the one tests/setup.sh builds into tests/.kit/bin/ipfs, or the file named by the
 * system property {@code mirrorball.kubo} or the environment variable {@code MIRRORBALL_KUBO}. A
 * missing binary fails the test; it never skips.
 *
 * <p>Each node is {@code ipfs init --profile test} (no bootstrap peers, no MDNS, no AutoTLS, no
 * AutoConf; API, gateway and swarm on 127.0.0.1 with ports the OS picks) and runs until closed, or
 * until the JVM exits. Its daemon log is kept in {@code mirrorball.kuboLogs} (target/kubo-logs,
 * next to the surefire reports), one file per node named after the test class that started it.
 */
public final class KuboNode implements AutoCloseable {
    private static final Object LOCK = new Object();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    private static final Pattern API_LINE = Pattern.compile("RPC API server listening on /ip4/127\\.0\\.0\\.1/tcp/(\\d+)");
    private static final Pattern GATEWAY_LINE = Pattern.compile("Gateway server listening on /ip4/127\\.0\\.0\\.1/tcp/(\\d+)");
    private static final Pattern ID = Pattern.compile("\"ID\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern TCP_ADDRESS = Pattern.compile("\"(/ip4/127\\.0\\.0\\.1/tcp/\\d+)/p2p/[^\"]+\"");
    private static KuboNode shared;

    private final Path repo;
    private final Path log;
    private final Daemon daemon;
    private final int apiPort;
    private final int gatewayPort;
    private final String peerId;
    private final String swarmAddress;
    /** The Authorization header the fixture's own RPCs send, or null. */
    private final String authorization;

    private KuboNode(Path binary, Path repo, Path log, boolean deleteRepo, String authSecret)
            throws IOException, InterruptedException {
        this.repo = repo;
        this.log = log;
        this.authorization = authorizationHeader(authSecret);
        if (!Files.exists(repo.resolve("config"))) {
            init(binary, repo, log);
        }
        authorize(repo, authSecret);
        // SIGTERM: Kubo shuts down cleanly; then the shared node's repository goes
        this.daemon = Daemon.start("Kubo daemon", command(binary, repo, "daemon"), log, STOP_TIMEOUT,
                () -> {
                    if (deleteRepo) {
                        deleteTree(repo.getParent());
                    }
                });
        try {
            String ready = waitReady();
            this.apiPort = port(API_LINE, ready);
            this.gatewayPort = port(GATEWAY_LINE, ready);
            String id = rpc("id");
            this.peerId = group(ID, id);
            this.swarmAddress = group(TCP_ADDRESS, id) + "/p2p/" + peerId;
        } catch (IOException | RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
    }

    /** One node for the whole test JVM, started on first use and stopped when the JVM exits. */
    public static KuboNode shared() {
        synchronized (LOCK) {
            if (shared == null) {
                try {
                    Path dir = Files.createTempDirectory("mb-kubo-shared");
                    shared = new KuboNode(binary(), dir.resolve("ipfs-repo"), logFile("shared"), true, null);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not start the shared Kubo test node: " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting the Kubo test node", e);
                }
            }
            return shared;
        }
    }

    /** A node of its own (for isolation, or two peered nodes), in a repo under {@code dir}. Close it. */
    public static KuboNode start(Path dir) {
        return start(dir, null);
    }

    /**
     * As {@link #start(Path)}, with Kubo's RPC authorization ({@code API.Authorizations}): one user
     * whose {@code AuthSecret} is {@code authSecret} ({@code basic:<user>:<password>} or
     * {@code bearer:<token>}), allowed every RPC; null for none. The fixture's own calls send it.
     */
    public static KuboNode startAuthorized(Path dir, String authSecret) {
        return start(dir, java.util.Objects.requireNonNull(authSecret));
    }

    private static KuboNode start(Path dir, String authSecret) {
        try {
            Files.createDirectories(dir);
            return new KuboNode(binary(), dir.resolve("ipfs-repo"), logFile(callerName()), false, authSecret);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a Kubo test node: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting a Kubo test node", e);
        }
    }

    /** The Kubo binary; throws (fails the test) when it is missing. */
    public static Path binary() {
        String configured = System.getProperty("mirrorball.kubo", System.getenv("MIRRORBALL_KUBO"));
        Path binary;
        if (configured != null && !configured.isEmpty()) {
            binary = Path.of(configured);
        } else {
            binary = Path.of(System.getProperty("mirrorball.basedir", ".")).resolve("tests/.kit/bin/ipfs");
        }
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new IllegalStateException("Kubo (ipfs) not installed at " + binary.toAbsolutePath()
                    + ": run tests/setup.sh (builds it from tests/kit/kubo), or set -Dmirrorball.kubo=<path of ipfs>");
        }
        return binary.toAbsolutePath();
    }

    /** The RPC base, e.g. {@code http://127.0.0.1:5101} (append /api/v0/...). */
    public URI apiUrl() {
        return URI.create("http://127.0.0.1:" + apiPort);
    }

    /** The node's own HTTP gateway ({@code /ipfs/<cid>}), e.g. {@code http://127.0.0.1:8101}. */
    public URI gatewayUrl() {
        return URI.create("http://127.0.0.1:" + gatewayPort);
    }

    public String peerId() {
        return peerId;
    }

    /** The multiaddr another node dials to peer with this one. */
    public String swarmAddress() {
        return swarmAddress;
    }

    /** The daemon's log (kept after the node stops). */
    public Path log() {
        return log;
    }

    /** Connects this node to another over loopback (bitswap then exchanges blocks). */
    public void connect(KuboNode other) {
        rpc("swarm/connect?arg=" + other.swarmAddress());
    }

    /** Calls an RPC with no body and returns the response text; fails on a non-200. */
    public String rpc(String pathAndQuery) {
        return send(pathAndQuery, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** Calls an RPC with one multipart file part (add, files/write) and returns the response text. */
    public String rpcWithFile(String pathAndQuery, byte[] content) {
        String boundary = "kubo-" + System.nanoTime();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + content.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(content, 0, body, head.length, content.length);
        System.arraycopy(tail, 0, body, head.length + content.length, tail.length);
        return send(pathAndQuery, HttpRequest.newBuilder()
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** Calls an RPC with no body and writes the response body to {@code target} (dag/export, cat). */
    public Path rpcToFile(String pathAndQuery, Path target) {
        HttpResponse<Path> r = exchange(pathAndQuery, HttpRequest.newBuilder().POST(HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.ofFile(target));
        if (r.statusCode() != 200) {
            String body;
            try {
                body = Files.readString(target);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new IllegalStateException("RPC " + pathAndQuery + " failed: " + r.statusCode() + " " + body);
        }
        return target;
    }

    private String send(String pathAndQuery, HttpRequest.Builder request) {
        HttpResponse<String> r = exchange(pathAndQuery, request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("RPC " + pathAndQuery + " failed: " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private <T> HttpResponse<T> exchange(String pathAndQuery, HttpRequest.Builder request,
                                         HttpResponse.BodyHandler<T> handler) {
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            return client.send(request.uri(URI.create(apiUrl() + "/api/v0/" + pathAndQuery))
                    .timeout(Duration.ofSeconds(60)).build(), handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code ipfs init --profile test}, then a config for tests: loopback only, nothing reaching out. */
    private static void init(Path binary, Path repo, Path log) throws IOException, InterruptedException {
        Files.createDirectories(repo);
        Process init = command(binary, repo, "init", "--profile", "test")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (!init.waitFor(60, TimeUnit.SECONDS) || init.exitValue() != 0) {
            init.destroyForcibly();
            throw new IOException("ipfs init failed; log " + log + ": " + tail(log));
        }
        Path configFile = repo.resolve("config");
        ObjectNode config = (ObjectNode) JSON.readTree(configFile.toFile());
        // the test profile already binds API, gateway and swarm to 127.0.0.1:0 and drops bootstrap
        // peers, MDNS, AutoTLS and AutoConf; set what the tests rely on explicitly
        ObjectNode addresses = config.withObjectProperty("Addresses");
        addresses.put("API", "/ip4/127.0.0.1/tcp/0");
        addresses.put("Gateway", "/ip4/127.0.0.1/tcp/0");
        addresses.putArray("Swarm").add("/ip4/127.0.0.1/tcp/0");
        config.putArray("Bootstrap");
        config.withObjectProperty("Discovery").withObjectProperty("MDNS").put("Enabled", false);
        // no DHT: peered test nodes find blocks over bitswap with the peers they are connected to
        config.withObjectProperty("Routing").put("Type", "none");
        JSON.writerWithDefaultPrettyPrinter().writeValue(configFile.toFile(), config);
    }

    /** Sets (or, for null, removes) API.Authorizations: one user with this secret, allowed /api/v0. */
    private static void authorize(Path repo, String authSecret) throws IOException {
        Path configFile = repo.resolve("config");
        ObjectNode config = (ObjectNode) JSON.readTree(configFile.toFile());
        ObjectNode api = config.withObjectProperty("API");
        if (authSecret == null) {
            api.remove("Authorizations");
        } else {
            ObjectNode user = api.putObject("Authorizations").putObject("mirrorball-test");
            user.put("AuthSecret", authSecret);
            user.putArray("AllowedPaths").add("/api/v0");
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(configFile.toFile(), config);
    }

    /** The Authorization header for Kubo's AuthSecret format, or null. */
    private static String authorizationHeader(String authSecret) {
        if (authSecret == null) {
            return null;
        }
        if (authSecret.startsWith("basic:")) {
            return "Basic " + java.util.Base64.getEncoder().encodeToString(
                    authSecret.substring("basic:".length()).getBytes(StandardCharsets.UTF_8));
        }
        if (authSecret.startsWith("bearer:")) {
            return "Bearer " + authSecret.substring("bearer:".length());
        }
        throw new IllegalArgumentException("AuthSecret must be basic:<user>:<password> or bearer:<token>");
    }

    private static ProcessBuilder command(Path binary, Path repo, String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = pb.environment();
        env.put("IPFS_PATH", repo.toString());
        env.put("IPFS_TELEMETRY", "off");
        env.remove("IPFS_LOGGING");
        env.remove("GOLOG_LOG_LEVEL");
        return pb;
    }

    /** Waits for "Daemon is ready" in the log and returns the log up to there. */
    private String waitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.contains("Daemon is ready")) {
                return text;
            }
            daemon.checkAlive();
            Thread.sleep(100);
        }
        throw daemon.notReady(START_TIMEOUT);
    }

    private int port(Pattern line, String text) throws IOException {
        Matcher m = line.matcher(text);
        int port = -1;
        while (m.find()) {
            port = Integer.parseInt(m.group(1)); // the last start in an appended log
        }
        if (port < 0) {
            throw new IOException("Kubo daemon did not say where it listens (" + line.pattern() + "); log " + log);
        }
        return port;
    }

    private String group(Pattern pattern, String text) throws IOException {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IOException("unexpected ipfs id answer: " + text);
        }
        return m.group(1);
    }

    @Override
    public void close() {
        daemon.close();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is not worth failing a test for
        }
    }

    private static Path logFile(String name) throws IOException {
        return Daemon.logFile("mirrorball.kuboLogs", "kubo-logs", name);
    }

    /** The simple name of the class that asked for a node (the test class), for its log's name. */
    private static String callerName() {
        return Daemon.callerName(KuboNode.class, "node");
    }

    private static String tail(Path log) {
        return Daemon.tail(log);
    }
}
