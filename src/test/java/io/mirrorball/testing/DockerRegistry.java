package io.mirrorball.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code /usr/bin/docker-registry} (distribution 2.8) on 127.0.0.1 with a free port and
 * filesystem storage in a directory of the test: a real registry to compare against, or to stand
 * upstream of mirrorball. Optional htpasswd auth and pull-through proxy mode. Everything the process
 * prints (including the access log) goes to {@link #log()}. A missing binary fails the test.
 *
 * <pre>
 * try (DockerRegistry registry = DockerRegistry.builder(tmp).htpasswd("alice", "secret").start()) {
 *     skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
 * }
 * </pre>
 */
public final class DockerRegistry implements AutoCloseable {
    public static final Path BINARY = Path.of(System.getProperty("mirrorball.dockerRegistry",
            "/usr/bin/docker-registry"));

    private final Path dir;
    private final int port;
    private final Process process;

    private DockerRegistry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    public static Builder builder(Path dir) {
        return new Builder(dir.toAbsolutePath());
    }

    /** A plain registry without auth, storing under {@code dir}. */
    public static DockerRegistry start(Path dir) {
        return builder(dir).start();
    }

    /** Fails with a clear message when docker-registry is not installed. */
    public static void requireBinary() {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("docker-registry is not installed at " + BINARY
                    + ": run tests/setup.sh (apt-get install docker-registry)");
        }
    }

    /** Options, then {@link #start()}. */
    public static final class Builder {
        private final Path dir;
        private String username;
        private String password;
        private String proxyUrl;
        private String proxyUsername;
        private String proxyPassword;
        private final Map<String, String> env = new LinkedHashMap<>();

        private Builder(Path dir) {
            this.dir = dir;
        }

        /** Requires HTTP Basic auth with this one user (bcrypt htpasswd file, as distribution wants). */
        public Builder htpasswd(String username, String password) {
            this.username = username;
            this.password = password;
            return this;
        }

        /** Pull-through cache mode: {@code proxy.remoteurl} (read-only, fetches misses from there). */
        public Builder proxy(String remoteUrl) {
            this.proxyUrl = remoteUrl;
            return this;
        }

        /**
         * Pull-through cache mode with credentials for the remote. Note: distribution 2.8 uses them
         * for the remote's token (Bearer) auth only; it does not answer a Basic challenge of the
         * remote (the remote's requests then get 401 and the proxy answers 404 MANIFEST_UNKNOWN).
         */
        public Builder proxy(String remoteUrl, String username, String password) {
            this.proxyUrl = remoteUrl;
            this.proxyUsername = username;
            this.proxyPassword = password;
            return this;
        }

        /** An extra environment variable, e.g. a REGISTRY_* config override. */
        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        public DockerRegistry start() {
            requireBinary();
            try {
                Files.createDirectories(dir.resolve("storage"));
                int port = freePort();
                StringBuilder yaml = new StringBuilder()
                        .append("version: 0.1\n")
                        .append("log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n")
                        .append("storage:\n  filesystem:\n    rootdirectory: ").append(quote(dir.resolve("storage")))
                        .append("\n  delete:\n    enabled: true\n")
                        .append("  maintenance:\n    uploadpurging:\n      enabled: false\n")
                        .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
                        .append("  secret: mirrorball-test-secret\n")
                        .append("  headers:\n    X-Content-Type-Options: [nosniff]\n");
                if (username != null) {
                    Path htpasswd = HtpasswdFile.write(dir.resolve("htpasswd"), username, password);
                    yaml.append("auth:\n  htpasswd:\n    realm: mirrorball-test\n    path: ")
                            .append(quote(htpasswd)).append('\n');
                }
                if (proxyUrl != null) {
                    yaml.append("proxy:\n  remoteurl: ").append(quote(proxyUrl)).append('\n');
                    if (proxyUsername != null) {
                        yaml.append("  username: ").append(quote(proxyUsername)).append('\n')
                                .append("  password: ").append(quote(proxyPassword)).append('\n');
                    }
                }
                Path config = dir.resolve("config.yml");
                Files.writeString(config, yaml.toString());
                Path log = dir.resolve("registry.log");
                ProcessBuilder pb = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                pb.environment().putAll(env);
                DockerRegistry registry = new DockerRegistry(dir, port, pb.start());
                registry.awaitReady();
                return registry;
            } catch (IOException e) {
                throw new UncheckedIOException("start docker-registry in " + dir + ": " + e.getMessage(), e);
            }
        }

        private static String quote(Object value) {
            return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }

    /** {@code http://127.0.0.1:<port>}; the API is under /v2/. */
    public URI uri() {
        return URI.create("http://" + hostPort());
    }

    /** {@code 127.0.0.1:<port>}, as used in image references. */
    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The registry's output, including its access log. */
    public Path log() {
        return dir.resolve("registry.log");
    }

    /** The filesystem storage root. */
    public Path storage() {
        return dir.resolve("storage");
    }

    public long pid() {
        return process.pid();
    }

    private void awaitReady() throws IOException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("docker-registry exited with " + process.exitValue() + "; log:\n"
                        + Files.readString(log(), StandardCharsets.UTF_8));
            }
            try {
                HttpResponse<Void> response = client.send(HttpRequest.newBuilder(uri().resolve("/v2/"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200 || response.statusCode() == 401) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted while starting docker-registry", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted while starting docker-registry", e);
            }
        }
        close();
        throw new IOException("docker-registry did not answer on " + uri() + " within 30 s; log:\n"
                + Files.readString(log(), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
