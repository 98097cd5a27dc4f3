package io.mirrorball.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The output of one run of a client program (ctr, podman) and how long it took; {@link #run} runs one
 * with a timeout, its output in temp files (no pipe to fill up), stdin from /dev/null.
 */
public record CommandResult(String command, int exitCode, String stdout, String stderr, Duration took) {

    /** Runs {@code command} with these extra environment variables; kills it and fails after {@code timeout}. */
    static CommandResult run(List<String> command, Map<String, String> env, Duration timeout) {
        String line = String.join(" ", command);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("mb-client-", ".out");
            err = Files.createTempFile("mb-client-", ".err");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            long start = System.nanoTime();
            Process process = pb.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + line + "\nstderr: "
                        + tail(Files.readString(err)));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            return new CommandResult(line, process.exitValue(), Files.readString(out), Files.readString(err), took);
        } catch (IOException e) {
            throw new UncheckedIOException("run " + line, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + line, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Fails, with both outputs, unless the program exited 0. */
    public CommandResult requireSuccess() {
        if (exitCode != 0) {
            throw new AssertionError(command + "\nexited with " + exitCode + "\nstderr: " + tail(stderr)
                    + "\nstdout: " + tail(stdout));
        }
        return this;
    }

    static String tail(String text) {
        return text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text;
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left behind does no harm
            }
        }
    }
}
