package io.mirrorball.testing;

import io.mirrorball.oci.Digest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs Debian's {@code podman} (4.3, containers/image 5.23) as root, isolated from the host: its own
 * storage ({@code --root}, {@code --runroot}, {@code --storage-driver vfs}: plain directories, no mounts
 * left behind, works in any container), libpod state ({@code --tmpdir}), network config dir and
 * configuration files written by the test, passed through {@code CONTAINERS_REGISTRIES_CONF},
 * {@code CONTAINERS_STORAGE_CONF}, {@code CONTAINERS_CONF} and {@code REGISTRY_AUTH_FILE}, with
 * cgroupfs and a file events log (no systemd, no journald). A missing binary fails the test, it never
 * skips.
 * <p>{@link #mirror} writes a {@code registries.conf} entry whose {@code [[registry.mirror]]} (insecure)
 * is the gateway, so {@code podman pull REGISTRY/app:1} goes through the mirror first and to the
 * registry itself only when the mirror fails. What podman sends to an insecure mirror: a TLS handshake
 * first (insecure means "https, else http"), then {@code GET /v2/} and {@code GET /v2/<name>/manifests/<tag>},
 * {@code GET /v2/<name>/blobs/<digest>}, without query parameters. A mirror location with a path
 * ({@code 127.0.0.1:PORT/ghcr.io}) puts the path in front of the name:
 * {@code GET /v2/ghcr.io/<name>/manifests/<tag>}, while the ping stays {@code GET /v2/}.
 *
 * <pre>
 * Podman podman = Podman.in(tmp.resolve("podman")).mirror("mirror-test.invalid:5000", gatewayHostPort);
 * podman.pull("mirror-test.invalid:5000/app:1");
 * Digest manifest = podman.imageDigest("mirror-test.invalid:5000/app:1");
 * podman.close();
 * </pre>
 */
public final class Podman implements AutoCloseable {
    public static final Path BINARY = Path.of(System.getProperty("mirrorball.podman", "/usr/bin/podman"));
    public static final String STORAGE_DRIVER = "vfs";
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final Path home;
    private final Map<String, List<String>> mirrors = new LinkedHashMap<>();

    private Podman(Path home) {
        this.home = home;
    }

    /** Fails with a clear message when podman is not installed. */
    public static void requireBinary() {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("podman is not installed at " + BINARY
                    + ": run tests/setup.sh (apt-get install podman)");
        }
    }

    /** A podman with its storage and configuration under {@code dir} (created). */
    public static Podman in(Path dir) {
        requireBinary();
        Path home = dir.toAbsolutePath();
        Podman podman = new Podman(home);
        try {
            for (String sub : List.of("root", "runroot", "tmp", "libpod", "networks", "home")) {
                Files.createDirectories(home.resolve(sub));
            }
            Files.writeString(home.resolve("auth.json"), "{\"auths\":{}}");
            Files.writeString(home.resolve("policy.json"), "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
            Files.writeString(home.resolve("storage.conf"), "[storage]\ndriver = " + quote(STORAGE_DRIVER)
                    + "\ngraphroot = " + quote(home.resolve("root")) + "\nrunroot = " + quote(home.resolve("runroot"))
                    + "\n");
            Files.writeString(home.resolve("containers.conf"), "[engine]\ncgroup_manager = \"cgroupfs\"\n"
                    + "events_logger = \"file\"\nevents_logfile_path = " + quote(home.resolve("events.log")) + "\n"
                    + "[network]\nnetwork_config_dir = " + quote(home.resolve("networks")) + "\n");
            podman.writeRegistriesConf();
        } catch (IOException e) {
            throw new UncheckedIOException("prepare podman config in " + home, e);
        }
        return podman;
    }

    /**
     * Adds a {@code [[registry]]} for {@code registry} (a host[:port], as in image references) whose
     * {@code [[registry.mirror]]} is {@code mirrorLocation} ({@code host:port} or {@code host:port/path}),
     * insecure (plain http allowed), and rewrites registries.conf.
     */
    public Podman mirror(String registry, String mirrorLocation) {
        mirrors.computeIfAbsent(registry, r -> new ArrayList<>()).add(mirrorLocation);
        try {
            writeRegistriesConf();
        } catch (IOException e) {
            throw new UncheckedIOException("write registries.conf in " + home, e);
        }
        return this;
    }

    private void writeRegistriesConf() throws IOException {
        StringBuilder conf = new StringBuilder("unqualified-search-registries = []\n");
        mirrors.forEach((registry, locations) -> {
            conf.append("\n[[registry]]\nprefix = ").append(quote(registry))
                    .append("\nlocation = ").append(quote(registry)).append('\n');
            for (String location : locations) {
                conf.append("\n[[registry.mirror]]\nlocation = ").append(quote(location))
                        .append("\ninsecure = true\n");
            }
        });
        Files.writeString(registriesConf(), conf.toString());
    }

    /** The registries.conf podman reads. */
    public Path registriesConf() {
        return home.resolve("registries.conf");
    }

    /** {@code podman pull ref}; fails unless it exits 0. */
    public CommandResult pull(String ref) {
        return check(tryPull(ref));
    }

    /** {@code podman pull ref}, whatever the exit code. */
    public CommandResult tryPull(String ref) {
        return run(List.of("pull", "--signature-policy", home.resolve("policy.json").toString(), ref));
    }

    /** The image ID (the config digest's hex) of the local image {@code ref}. */
    public String imageId(String ref) {
        return inspect(ref, "{{.Id}}");
    }

    /** The digest of the manifest podman pulled for the local image {@code ref}. */
    public Digest imageDigest(String ref) {
        return Digest.parse(inspect(ref, "{{.Digest}}"));
    }

    private String inspect(String ref, String format) {
        return check(run(List.of("image", "inspect", "--format", format, ref))).stdout().trim();
    }

    /**
     * Runs podman with the global options that isolate it from the host, and returns its result whatever
     * the exit code; kills it and fails when it runs longer than 5 minutes.
     */
    public CommandResult run(List<String> args) {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(),
                "--root", home.resolve("root").toString(),
                "--runroot", home.resolve("runroot").toString(),
                "--storage-driver", STORAGE_DRIVER,
                "--tmpdir", home.resolve("libpod").toString(),
                "--network-config-dir", home.resolve("networks").toString(),
                "--cgroup-manager", "cgroupfs",
                "--events-backend", "file"));
        command.addAll(args);
        Map<String, String> env = Map.of(
                "CONTAINERS_REGISTRIES_CONF", registriesConf().toString(),
                "CONTAINERS_STORAGE_CONF", home.resolve("storage.conf").toString(),
                "CONTAINERS_CONF", home.resolve("containers.conf").toString(),
                "REGISTRY_AUTH_FILE", home.resolve("auth.json").toString(),
                "HOME", home.resolve("home").toString(),
                "XDG_RUNTIME_DIR", home.resolve("runroot").toString(),
                "TMPDIR", home.resolve("tmp").toString());
        return CommandResult.run(command, env, TIMEOUT);
    }

    private static CommandResult check(CommandResult result) {
        return result.requireSuccess();
    }

    /** Removes every image and the storage (vfs layers are plain directories). */
    @Override
    public void close() {
        run(List.of("rmi", "--all", "--force"));
        Containerd.deleteTree(home.resolve("root"));
        Containerd.deleteTree(home.resolve("runroot"));
    }

    private static String quote(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
