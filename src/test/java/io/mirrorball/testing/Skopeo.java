package io.mirrorball.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian's {@code /usr/bin/skopeo} (the real OCI client) with a timeout. Each instance has its own
 * auth file, registries.conf and policy.json in a temp directory, so the host's configuration is never
 * used. TLS verification is off for both sides (the registries under test listen on plain http on
 * loopback). A missing binary fails the test, it never skips.
 */
public final class Skopeo {
    public static final Path BINARY = Path.of(System.getProperty("mirrorball.skopeo", "/usr/bin/skopeo"));

    private final Path home;
    private final Duration timeout;

    /** The output of one run. */
    public record Result(String command, int exitCode, String stdout, String stderr) {
    }

    private Skopeo(Path home, Duration timeout) {
        this.home = home;
        this.timeout = timeout;
    }

    /** A skopeo with its configuration in {@code dir} (created), and a 5 minute timeout per run. */
    public static Skopeo in(Path dir) {
        return in(dir, Duration.ofMinutes(5));
    }

    public static Skopeo in(Path dir, Duration timeout) {
        requireBinary();
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("auth.json"), "{\"auths\":{}}");
            Files.writeString(dir.resolve("registries.conf"), "unqualified-search-registries = []\n");
            Files.writeString(dir.resolve("policy.json"),
                    "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
            Files.createDirectories(dir.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("prepare skopeo config in " + dir, e);
        }
        return new Skopeo(dir.toAbsolutePath(), timeout);
    }

    /** Fails with a clear message when skopeo is not installed. */
    public static void requireBinary() {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("skopeo is not installed at " + BINARY
                    + ": run tests/setup.sh (apt-get install skopeo)");
        }
    }

    /** The directory holding auth.json, registries.conf and policy.json. */
    public Path home() {
        return home;
    }

    /** Writes Basic credentials for {@code hostPort} into this instance's auth file. */
    public Skopeo login(String hostPort, String username, String password) {
        String auth = java.util.Base64.getEncoder().encodeToString(
                (username + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
            Files.writeString(home.resolve("auth.json"),
                    "{\"auths\":{\"" + hostPort + "\":{\"auth\":\"" + auth + "\"}}}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** {@code skopeo copy} with TLS verification off on both sides; fails unless it exits 0. */
    public Result copy(String src, String dst, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                "--retry-times", "0"));
        args.addAll(Arrays.asList(extraArgs));
        args.add(src);
        args.add(dst);
        return check(run(args));
    }

    /** {@code skopeo copy --all}: copies an index with every platform manifest. */
    public Result copyAll(String src, String dst, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--all"));
        args.addAll(Arrays.asList(extraArgs));
        return copy(src, dst, args.toArray(String[]::new));
    }

    /** {@code skopeo inspect --raw}: the manifest or index bytes as the registry serves them. */
    public String inspectRaw(String ref) {
        return check(run(List.of("inspect", "--tls-verify=false", "--raw", ref))).stdout();
    }

    /** {@code skopeo inspect} (JSON with Digest, Layers, ...). */
    public String inspect(String ref, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("inspect", "--tls-verify=false"));
        args.addAll(Arrays.asList(extraArgs));
        args.add(ref);
        return check(run(args)).stdout();
    }

    /** {@code skopeo list-tags}. */
    public String listTags(String ref) {
        return check(run(List.of("list-tags", "--tls-verify=false", ref))).stdout();
    }

    /**
     * Runs skopeo with the global options that isolate it from the host, and returns its result
     * whatever the exit code. Kills it and fails when it runs longer than the timeout.
     */
    public Result run(List<String> args) {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(),
                "--policy", home.resolve("policy.json").toString(),
                "--tmpdir", home.resolve("tmp").toString()));
        String subcommand = args.get(0);
        command.add(subcommand);
        if (List.of("copy", "inspect", "list-tags", "delete", "sync").contains(subcommand)) {
            command.add("--authfile");
            command.add(home.resolve("auth.json").toString());
        }
        command.addAll(args.subList(1, args.size()));
        Path out = home.resolve("tmp/stdout-" + System.nanoTime());
        Path err = home.resolve("tmp/stderr-" + System.nanoTime());
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("TMPDIR", home.resolve("tmp").toString());
        pb.environment().put("HOME", home.toString());
        pb.environment().put("XDG_RUNTIME_DIR", home.toString());
        pb.environment().put("REGISTRY_AUTH_FILE", home.resolve("auth.json").toString());
        pb.environment().put("CONTAINERS_REGISTRIES_CONF", home.resolve("registries.conf").toString());
        try {
            Process process = pb.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("skopeo timed out after " + timeout + ": " + String.join(" ", command)
                        + "\nstderr: " + tail(Files.readString(err)));
            }
            Result result = new Result(String.join(" ", command), process.exitValue(), Files.readString(out),
                    Files.readString(err));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }

    private static Result check(Result result) {
        if (result.exitCode() != 0) {
            throw new AssertionError(result.command() + "\nexited with " + result.exitCode() + "\nstderr: " + tail(result.stderr())
                    + "\nstdout: " + tail(result.stdout()));
        }
        return result;
    }

    private static String tail(String text) {
        return text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text;
    }
}
