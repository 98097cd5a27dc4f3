package io.mirrorball.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs {@code io.mirrorball.cli.Main} in a child JVM (this JVM's java and class path), so a test can
 * SIGKILL it mid-run ({@link #kill()}: {@code Process.destroyForcibly}, SIGKILL on Linux, exit code
 * 137). Its stdout and stderr go to files in the run's directory, which is also its working directory.
 * The child's environment is only {@code PATH}, {@code LANG} and what the test sets (no MIRRORBALL_*,
 * HOME or DOCKER_CONFIG of the machine leaks in); java's {@code user.home} still comes from the
 * password database, so pass {@code HOME} (and {@code -Duser.home} via {@link Builder#jvmArg}) when a
 * test needs its own.
 *
 * <pre>
 * try (MigrateProcess run = MigrateProcess.builder(tmp.resolve("run1"))
 *         .args("migrate", "docker://" + source.hostPort() + "/app", "--to", gatewayUrl)
 *         .env("HOME", tmp.resolve("home").toString()).start()) {
 *     boolean killed = run.killWhen(uploads, dir -&gt; MigrateProcess.directoryBytes(dir) &gt;= 32 &lt;&lt; 20,
 *             Duration.ofMinutes(2));
 *     int exit = run.awaitExit(Duration.ofMinutes(2));
 * }
 * </pre>
 */
public final class MigrateProcess implements AutoCloseable {
    public static final String MAIN_CLASS = "io.mirrorball.cli.Main";
    /** The exit code of a child killed by SIGKILL (128 + 9). */
    public static final int SIGKILL_EXIT = 137;
    private static final long POLL_MILLIS = 20;

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final List<String> command;

    private MigrateProcess(Process process, Path stdout, Path stderr, List<String> command) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.command = List.copyOf(command);
    }

    /** A run in {@code dir} (created): working directory, stdout.txt and stderr.txt. */
    public static Builder builder(Path dir) {
        return new Builder(dir.toAbsolutePath());
    }

    /** Starts {@code mirrorball args...} in {@code dir} with {@code env} added to the minimal environment. */
    public static MigrateProcess start(Path dir, List<String> args, Map<String, String> env) {
        return builder(dir).args(args).env(env).start();
    }

    /** Arguments and environment, then {@link #start()}. */
    public static final class Builder {
        private final Path dir;
        private final List<String> args = new ArrayList<>();
        private final List<String> jvmArgs = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseSerialGC"));
        private final Map<String, String> env = new LinkedHashMap<>();

        private Builder(Path dir) {
            this.dir = dir;
            String path = System.getenv("PATH");
            env.put("PATH", path != null ? path : "/usr/local/bin:/usr/bin:/bin");
            env.put("LANG", "C.UTF-8");
        }

        /** Appends command-line arguments of mirrorball (after the main class). */
        public Builder args(String... more) {
            return args(List.of(more));
        }

        public Builder args(List<String> more) {
            args.addAll(more);
            return this;
        }

        /** Sets an environment variable of the child (replacing PATH or LANG is allowed). */
        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        public Builder env(Map<String, String> more) {
            env.putAll(more);
            return this;
        }

        /** Adds a JVM option before the main class (e.g. {@code -Duser.home=...}). */
        public Builder jvmArg(String option) {
            jvmArgs.add(option);
            return this;
        }

        public MigrateProcess start() {
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> command = new ArrayList<>();
            command.add(java.toString());
            command.addAll(jvmArgs);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(MAIN_CLASS);
            command.addAll(args);
            try {
                Files.createDirectories(dir);
                Path out = dir.resolve("stdout.txt");
                Path err = dir.resolve("stderr.txt");
                ProcessBuilder pb = new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                pb.environment().clear();
                pb.environment().putAll(env);
                return new MigrateProcess(pb.start(), out, err, command);
            } catch (IOException e) {
                throw new UncheckedIOException("start " + MAIN_CLASS + " in " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    /** Waits up to {@code timeout} for the child to exit; true when it has. */
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits for the exit and returns the exit code; kills the child and fails when it outlives {@code timeout}. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!waitFor(timeout)) {
            kill();
            throw new AssertionError("mirrorball did not exit within " + timeout + ": " + String.join(" ", command)
                    + "\nstdout: " + tail(stdout()) + "\nstderr: " + tail(stderr()));
        }
        return process.exitValue();
    }

    /** The exit code; fails while the child still runs. */
    public int exitCode() {
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILLs the child (no shutdown hooks run) and waits until it is gone. Harmless once it has exited. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("mirrorball (pid " + process.pid() + ") survived SIGKILL for 30 s");
        }
    }

    /**
     * Polls {@code condition} on {@code dir} (every 20 ms) and SIGKILLs the child as soon as it holds.
     * Returns true when it killed the child, false when the child exited first; fails (after killing)
     * when neither happens within {@code timeout}. The condition must tolerate a missing directory.
     */
    public boolean killWhen(Path dir, Predicate<Path> condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.test(dir)) {
                kill();
                return true;
            }
            if (!process.isAlive()) {
                return false;
            }
            Thread.sleep(POLL_MILLIS);
        }
        kill();
        throw new AssertionError("the condition on " + dir + " did not hold within " + timeout
                + "\nstdout: " + tail(stdout()) + "\nstderr: " + tail(stderr()));
    }

    /**
     * Waits until stdout has a match of {@code pattern} (e.g. {@code listening on (http://\S+)}) and
     * returns the match; empty when the child exited or {@code timeout} passed first.
     */
    public Optional<Matcher> awaitStdout(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean alive = process.isAlive();
            Matcher matcher = pattern.matcher(stdout());
            if (matcher.find()) {
                return Optional.of(matcher);
            }
            if (!alive || System.nanoTime() >= deadline) {
                return Optional.empty();
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Everything the child wrote to stdout so far. */
    public String stdout() {
        return read(stdout);
    }

    /** Everything the child wrote to stderr so far. */
    public String stderr() {
        return read(stderr);
    }

    public Path stdoutFile() {
        return stdout;
    }

    public Path stderrFile() {
        return stderr;
    }

    /** The bytes of all regular files under {@code dir}; 0 when it does not exist. Files may vanish meanwhile. */
    public static long directoryBytes(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.mapToLong(MigrateProcess::sizeOrZero).sum();
        } catch (IOException | UncheckedIOException e) {
            // a directory vanished during the walk: count again on the next poll
            return 0;
        }
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (NoSuchFileException gone) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGKILLs the child when it still runs. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    private static String read(Path file) {
        try {
            // bytes, not readString: the child may be in the middle of writing a multi-byte character
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(String text) {
        return text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text;
    }
}
