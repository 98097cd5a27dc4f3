package io.mirrorball.testing;

import io.mirrorball.oci.Digest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real containerd daemon (Debian's {@code containerd} 1.6, which runs here as root) with its client
 * {@code ctr}: the pull-through client of a Kubernetes node. Isolated from the host's containerd: its
 * own {@code root} (content store, snapshots, metadata) under the test's directory, its own
 * {@code state} with the gRPC, ttrpc and debug sockets in a short directory under /tmp (a unix socket
 * path must stay under 108 bytes; deleted on close), and a config.toml that disables the CRI plugin
 * and the snapshotters that cannot run in a container (aufs, btrfs, devmapper, zfs). No TCP listener:
 * containerd only talks to registries, through the {@code hosts.toml} files of {@link #pull}.
 * <p>The snapshotter is overlayfs when containerd's own overlayfs plugin loads (it test-mounts an
 * overlay in its root at start), else {@code native}; {@link #snapshotter()} says which. The daemon's
 * output goes to {@link #log()} (kept next to the surefire reports). Close stops it, then any child
 * it started (shims), and deletes the state directory. A missing binary fails the test, it never skips.
 * <p>What containerd sends to a mirror named in {@code hosts.toml} (verified with a recording proxy,
 * see PullThroughClientsTest): every request carries {@code ?ns=<registry host>} of the image
 * reference, port included and URL-encoded ({@code ?ns=mirror-test.invalid%3A5000}), on
 * {@code HEAD /v2/<name>/manifests/<tag>} (resolve), {@code GET /v2/<name>/manifests/<digest>} and
 * {@code GET /v2/<name>/blobs/<digest>}; the path is the plain repository name. A mirror with
 * {@code http://} in hosts.toml needs no {@code --plain-http}.
 *
 * <pre>
 * try (Containerd containerd = Containerd.start(tmp.resolve("containerd"))) {
 *     Path hosts = Containerd.writeHostsToml(tmp.resolve("hosts"), "mirror-test.invalid:5000", gateway.uri());
 *     containerd.pull("mirror-test.invalid:5000/app:1", hosts);
 *     Digest manifest = containerd.imageDigest("mirror-test.invalid:5000/app:1");
 * }
 * </pre>
 */
public final class Containerd implements AutoCloseable {
    public static final Path CONTAINERD = Path.of(System.getProperty("mirrorball.containerd", "/usr/bin/containerd"));
    public static final Path CTR = Path.of(System.getProperty("mirrorball.ctr", "/usr/bin/ctr"));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration CTR_TIMEOUT = Duration.ofMinutes(5);
    private static final List<String> DISABLED_PLUGINS = List.of(
            "io.containerd.grpc.v1.cri",
            "io.containerd.snapshotter.v1.aufs",
            "io.containerd.snapshotter.v1.btrfs",
            "io.containerd.snapshotter.v1.devmapper",
            "io.containerd.snapshotter.v1.zfs",
            "io.containerd.tracing.processor.v1.otlp",
            "io.containerd.internal.v1.tracing");

    private final Path dir;
    private final Path state;
    private final Daemon daemon;
    private String snapshotter = "native";

    private Containerd(Path dir, Path state, Daemon daemon) {
        this.dir = dir;
        this.state = state;
        this.daemon = daemon;
    }

    /** Fails with a clear message when containerd or ctr is not installed. */
    public static void requireBinaries() {
        for (Path binary : List.of(CONTAINERD, CTR)) {
            if (!Files.isExecutable(binary)) {
                throw new IllegalStateException("containerd is not installed (" + binary
                        + " missing): run tests/setup.sh (apt-get install containerd)");
            }
        }
    }

    /** Starts a containerd with its root under {@code dir} (created) and waits until it answers. */
    public static Containerd start(Path dir) {
        requireBinaries();
        Path root = dir.toAbsolutePath();
        Path state = null;
        try {
            Files.createDirectories(root.resolve("root"));
            state = Files.createTempDirectory(Path.of("/tmp"), "mb-ctrd-");
            Path config = root.resolve("config.toml");
            Files.writeString(config, config(root, state));
            Path log = Daemon.logFile("mirrorball.containerdLogs", "containerd-logs",
                    Daemon.callerName(Containerd.class, "containerd"));
            ProcessBuilder command = new ProcessBuilder(CONTAINERD.toString(), "--config", config.toString(),
                    "--log-level", "info")
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Path stateDir = state;
            Daemon daemon = Daemon.start("containerd", command, log, STOP_GRACE, () -> deleteTree(stateDir));
            Containerd containerd = new Containerd(root, state, daemon);
            try {
                containerd.awaitReady();
            } catch (IOException | RuntimeException e) {
                containerd.close();
                throw e;
            }
            return containerd;
        } catch (IOException e) {
            if (state != null) {
                deleteTree(state);
            }
            throw new UncheckedIOException("start containerd in " + root + ": " + e.getMessage(), e);
        }
    }

    private static String config(Path root, Path state) {
        StringBuilder toml = new StringBuilder()
                .append("version = 2\n")
                .append("root = ").append(quote(root.resolve("root"))).append('\n')
                .append("state = ").append(quote(state.resolve("state"))).append('\n')
                .append("disabled_plugins = [");
        for (int i = 0; i < DISABLED_PLUGINS.size(); i++) {
            toml.append(i == 0 ? "" : ", ").append(quote(DISABLED_PLUGINS.get(i)));
        }
        return toml.append("]\n\n")
                .append("[grpc]\n  address = ").append(quote(state.resolve("containerd.sock"))).append('\n')
                .append("[ttrpc]\n  address = ").append(quote(state.resolve("containerd.sock.ttrpc"))).append('\n')
                .append("[debug]\n  address = ").append(quote(state.resolve("debug.sock"))).append('\n')
                .append("[metrics]\n  address = \"\"\n")
                .append("[plugins]\n  [plugins.\"io.containerd.internal.v1.opt\"]\n    path = ")
                .append(quote(root.resolve("opt"))).append('\n')
                .toString();
    }

    private void awaitReady() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            daemon.checkAlive();
            if (Files.exists(socket())) {
                CommandResult plugins = ctr(List.of("plugins", "ls"));
                if (plugins.exitCode() == 0) {
                    snapshotter = plugins.stdout().lines()
                            .anyMatch(l -> l.matches("io\\.containerd\\.snapshotter\\.v1\\s+overlayfs\\s.*\\sok\\s*"))
                            ? "overlayfs" : "native";
                    return;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting containerd", e);
            }
        }
        throw daemon.notReady(START_TIMEOUT);
    }

    /** The gRPC socket ({@code ctr --address}). */
    public Path socket() {
        return state.resolve("containerd.sock");
    }

    /** {@code overlayfs} when containerd's overlayfs plugin loaded here, else {@code native}. */
    public String snapshotter() {
        return snapshotter;
    }

    /** The daemon's output. */
    public Path log() {
        return daemon.log();
    }

    /** The directory holding config.toml and containerd's root. */
    public Path dir() {
        return dir;
    }

    /**
     * Writes {@code <hostsDir>/<registryHost>/hosts.toml} naming {@code mirror} (e.g. the gateway's
     * {@code http://127.0.0.1:PORT}) as a mirror with the pull and resolve capabilities, in front of
     * {@code server = "https://<registryHost>"} (tried only when the mirror fails), as described in
     * containerd's docs/hosts.md. Returns {@code hostsDir}, for {@link #pull}.
     */
    public static Path writeHostsToml(Path hostsDir, String registryHost, URI mirror) {
        String host = mirror.getScheme() + "://" + mirror.getRawAuthority()
                + (mirror.getRawPath() == null ? "" : mirror.getRawPath().replaceAll("/+$", ""));
        String toml = "server = " + quote("https://" + registryHost) + "\n\n"
                + "[host." + quote(host) + "]\n"
                + "  capabilities = [\"pull\", \"resolve\"]\n";
        try {
            Path file = hostsDir.resolve(registryHost).resolve("hosts.toml");
            Files.createDirectories(file.getParent());
            Files.writeString(file, toml);
            return hostsDir;
        } catch (IOException e) {
            throw new UncheckedIOException("write hosts.toml under " + hostsDir, e);
        }
    }

    /**
     * {@code ctr images pull --hosts-dir DIR --snapshotter S [extra] ref}: fetches every blob of the
     * image (for this machine's platform) and unpacks it; fails unless ctr exits 0. The mirror in
     * hosts.toml decides http or https, so no {@code --plain-http} is needed for an {@code http://}
     * mirror (pass it in {@code extraArgs} to reach a plain-http registry without hosts.toml).
     */
    public CommandResult pull(String ref, Path hostsDir, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("images", "pull", "--hosts-dir", hostsDir.toAbsolutePath().toString(),
                "--snapshotter", snapshotter));
        args.addAll(Arrays.asList(extraArgs));
        args.add(ref);
        return check(ctr(args));
    }

    /** The digest of the manifest (or index) containerd stored for the image {@code ref}. */
    public Digest imageDigest(String ref) {
        // REF TYPE DIGEST SIZE PLATFORMS LABELS, one image per line after the header
        String out = check(ctr(List.of("images", "ls", "name==" + ref))).stdout();
        return out.lines().skip(1).map(l -> l.trim().split("\\s+"))
                .filter(cols -> cols.length >= 3 && cols[0].equals(ref))
                .map(cols -> Digest.parse(cols[2]))
                .findFirst()
                .orElseThrow(() -> new AssertionError("containerd has no image " + ref + ":\n" + out));
    }

    /** The digests of every blob (manifests, configs, layers) in containerd's content store. */
    public Set<Digest> contentDigests() {
        String out = check(ctr(List.of("content", "ls", "--quiet"))).stdout();
        Set<Digest> digests = new TreeSet<>();
        out.lines().map(String::trim).filter(l -> !l.isEmpty()).map(Digest::parse).forEach(digests::add);
        return digests;
    }

    /** {@code ctr images rm ref}: forgets the image (its content stays until garbage collection). */
    public CommandResult removeImage(String ref) {
        return check(ctr(List.of("images", "rm", "--sync", ref)));
    }

    /**
     * Runs {@code ctr --address SOCK args...} and returns its result whatever the exit code; kills it
     * and fails when it runs longer than 5 minutes.
     */
    public CommandResult ctr(List<String> args) {
        List<String> command = new ArrayList<>(List.of(CTR.toString(), "--address", socket().toString()));
        command.addAll(args);
        return CommandResult.run(command, java.util.Map.of(), CTR_TIMEOUT);
    }

    private CommandResult check(CommandResult result) {
        if (result.exitCode() != 0) {
            throw new AssertionError(result.command() + "\nexited with " + result.exitCode() + "\nstderr: "
                    + CommandResult.tail(result.stderr()) + "\nstdout: " + CommandResult.tail(result.stdout())
                    + "\ncontainerd log " + log() + ": " + Daemon.tail(log()));
        }
        return result;
    }

    @Override
    public void close() {
        List<ProcessHandle> children = ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.contains("containerd-shim")).orElse(false)
                        && p.info().arguments().map(a -> String.join(" ", a).contains(state.toString())).orElse(false))
                .toList();
        daemon.close();
        for (ProcessHandle child : children) {
            child.destroy();
        }
        for (ProcessHandle child : children) {
            try {
                child.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception notYet) {
                child.destroyForcibly();
            }
        }
        deleteTree(state);
    }

    private static String quote(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover socket in /tmp does no harm
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort, as above
        }
    }
}
