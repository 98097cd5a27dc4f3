package io.mirrorball.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real disco registry (github.com/forta-network/disco) for interoperability tests, running
 * against a {@link KuboNode} with a config of its own.
 *
 * <p>The binary is the one tests/setup.sh builds into tests/.kit/bin/disco (from the module in
 * tests/kit/disco, which pins the version), or the file named by the system property
 * {@code mirrorball.disco} or the environment variable {@code MIRRORBALL_DISCO}. A missing binary
 * fails the test; it never skips.
 *
 * <p>disco is two HTTP servers in one process: distribution's registry ({@code http.addr} of its
 * YAML config) and, in front of it, disco's proxy ({@code DISCO_PORT}), which renames a repository
 * pushed with tag {@code latest} to {@code <manifest digest hex>} and {@code <CIDv1>} and clones a
 * CID repository from {@code /ipfs/<cid>} on pull. Clients talk to the proxy ({@link #hostPort()}).
 * Its storage is the Kubo node's MFS under {@code /docker/registry/v2}, a root disco cannot change.
 * Both servers listen on every interface (disco builds the proxy's upstream URL as
 * {@code http://localhost<http.addr>}, so the address must be {@code :<port>}); the ports are free
 * ones picked here. The config is {@code disco.yml} in the given directory
 * ({@code REGISTRY_CONFIGURATION_PATH}), HOME is that directory, and the log (disco logs to
 * stderr) is kept in {@code mirrorball.discoLogs} (target/disco-logs), named after the test class.
 */
public final class Disco implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern CID_TAG = Pattern.compile("\"(baf[a-z2-7]{50,})\"");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Daemon daemon;
    private final int port;

    private Disco(Daemon daemon, int port) {
        this.daemon = daemon;
        this.port = port;
    }

    /**
     * Starts disco on {@code node} with the config of its README (storage on the node only), in
     * {@code dir} (created); waits until /v2/ answers. Close it. Such a disco reads and writes MFS
     * directly, but never clones a CID it does not have: see {@link #startWithCache}.
     */
    public static Disco start(KuboNode node, Path dir) {
        return start(node, dir, false);
    }

    /**
     * As {@link #start}, with a filesystem cache in {@code dir/cache} ({@code storage.ipfs.cache}, as
     * disco's own e2e config has). Only such a disco clones a CID repository it does not have from
     * IPFS: without a cache, its CloneGlobalRepo returns early (the "replicate in secondary" step
     * succeeds trivially when there is no secondary) and the pull gets MANIFEST_UNKNOWN. With a
     * cache, disco copies whatever it reads from MFS into the cache on first read and serves the
     * cached copy afterwards, so it does not see later changes that others make in MFS.
     */
    public static Disco startWithCache(KuboNode node, Path dir) {
        return start(node, dir, true);
    }

    private static Disco start(KuboNode node, Path dir, boolean cache) {
        Path binary = binary();
        String caller = callerName();
        try {
            Files.createDirectories(dir);
            IOException last = null;
            for (int attempt = 0; attempt < 3; attempt++) { // a picked port may be taken before disco binds it
                try {
                    return start(binary, node, dir, caller, cache);
                } catch (IOException e) {
                    last = e;
                }
            }
            throw last;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start disco: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting disco", e);
        }
    }

    private static Disco start(Path binary, KuboNode node, Path dir, String caller, boolean cache)
            throws IOException, InterruptedException {
        int registryPort = freePort();
        int proxyPort = freePort();
        Path config = dir.resolve("disco.yml");
        String yaml = "version: 0.1\n"
                + "log:\n"
                + "  level: debug\n"
                + "  fields:\n"
                + "    service: disco\n"
                + "storage:\n"
                + "  ipfs:\n"
                + "    router:\n"
                + "      nodes:\n"
                + "        - url: " + node.apiUrl() + "\n"
                + (cache ? "    cache:\n"
                        + "      filesystem:\n"
                        + "        rootdirectory: " + dir.resolve("cache") + "\n" : "")
                + "  delete:\n"
                + "    enabled: false\n"
                + "  maintenance:\n"
                + "    uploadpurging:\n"
                + "      enabled: false\n"
                + "http:\n"
                + "  addr: :" + registryPort + "\n";
        Files.writeString(config, yaml);
        Path log = logFile(caller);
        ProcessBuilder pb = new ProcessBuilder(List.of(binary.toString()))
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = pb.environment();
        // distribution reads REGISTRY_* variables as overrides of its config: none but ours
        env.keySet().removeIf(k -> k.startsWith("REGISTRY_") || k.startsWith("DISCO_"));
        env.put("REGISTRY_CONFIGURATION_PATH", config.toString());
        env.put("DISCO_PORT", Integer.toString(proxyPort));
        env.put("HOME", dir.toString());
        // SIGTERM: a Go program without signal handlers exits at once
        Disco disco = new Disco(Daemon.start("disco", pb, log, STOP_TIMEOUT, () -> { }), proxyPort);
        try {
            disco.waitReady();
            return disco;
        } catch (IOException | RuntimeException | InterruptedException e) {
            disco.close();
            throw e;
        }
    }

    /** The disco binary; throws (fails the test) when it is missing. */
    public static Path binary() {
        String configured = System.getProperty("mirrorball.disco", System.getenv("MIRRORBALL_DISCO"));
        Path binary = configured != null && !configured.isEmpty() ? Path.of(configured)
                : Path.of(System.getProperty("mirrorball.basedir", ".")).resolve("tests/.kit/bin/disco");
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new IllegalStateException("disco not installed at " + binary.toAbsolutePath()
                    + ": run tests/setup.sh (builds it from tests/kit/disco), or set -Dmirrorball.disco=<path of disco>");
        }
        return binary.toAbsolutePath();
    }

    /** {@code 127.0.0.1:<port>} of disco's proxy, the registry clients use. */
    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public URI uri() {
        return URI.create("http://" + hostPort());
    }

    /** disco's log (kept after it stops). */
    public Path log() {
        return daemon.log();
    }

    /**
     * The CID disco published for an image: the CID tag of the repository named by its manifest
     * digest (disco's way to find it: {@code docker pull -a <host>/<digest hex>}); empty when none.
     */
    public Optional<String> publishedCid(String manifestDigestHex) {
        HttpResponse<String> tags = get("/v2/" + manifestDigestHex + "/tags/list");
        if (tags.statusCode() != 200) {
            return Optional.empty();
        }
        Matcher m = CID_TAG.matcher(tags.body());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** A GET of disco's proxy, e.g. {@code /v2/<name>/tags/list}. */
    public HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri().resolve(path)).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void waitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        long badGatewaySince = -1;
        HttpRequest request = HttpRequest.newBuilder(uri().resolve("/v2/")).timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < deadline) {
            daemon.checkAlive();
            int status;
            try {
                status = HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException notYet) {
                status = -1;
            }
            if (status == 200) {
                return;
            }
            if (status != 502) {
                badGatewaySince = -1;
            } else if (badGatewaySince < 0) {
                badGatewaySince = System.nanoTime();
            } else if (System.nanoTime() - badGatewaySince > TimeUnit.SECONDS.toNanos(5)) {
                // the proxy answers but the registry behind it does not: disco ignores a failed listen
                throw new IOException("disco's registry port is taken (its proxy answers 502); log " + daemon.log());
            }
            Thread.sleep(100);
        }
        throw daemon.notReady(START_TIMEOUT);
    }

    @Override
    public void close() {
        daemon.close();
    }

    /** A port free on every interface now (disco binds the wildcard address). */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(0));
            return socket.getLocalPort();
        }
    }

    private static Path logFile(String name) throws IOException {
        return Daemon.logFile("mirrorball.discoLogs", "disco-logs", name);
    }

    private static String callerName() {
        return Daemon.callerName(Disco.class, "disco");
    }
}
