package io.mirrorball.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The child-JVM runner of cli.Main: exit codes, captured output, and SIGKILL on demand. */
final class MigrateProcessTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

    @TempDir
    Path tmp;

    @Test
    void start_version_exits0WithVersionOnStdout() throws Exception {
        try (MigrateProcess run = MigrateProcess.start(tmp.resolve("run"), List.of("--version"), Map.of())) {
            assertEquals(0, run.awaitExit(Duration.ofMinutes(1)), run.stderr());
            assertTrue(run.stdout().startsWith("mirrorball "), run.stdout());
            assertTrue(run.stdoutFile().startsWith(tmp.resolve("run")));
        }
    }

    @Test
    void start_unknownOption_exits2WithMessageOnStderr() throws Exception {
        try (MigrateProcess run = MigrateProcess.start(tmp.resolve("run"), List.of("serve", "--bogus"), Map.of())) {
            assertEquals(2, run.awaitExit(Duration.ofMinutes(1)));
            assertTrue(run.stderr().contains("--bogus"), run.stderr());
        }
    }

    @Test
    void kill_runningServe_exits137AndStopsServing() throws Exception {
        try (MigrateProcess run = serve("serve")) {
            Matcher listening = run.awaitStdout(LISTENING, Duration.ofMinutes(1))
                    .orElseThrow(() -> new AssertionError("no 'listening on'; stdout: " + run.stdout()
                            + " stderr: " + run.stderr()));
            URI uri = URI.create(listening.group(1));
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> ping = client.send(HttpRequest.newBuilder(uri.resolve("/v2/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ping.statusCode(), ping.body());

            run.kill();
            assertFalse(run.isAlive());
            assertEquals(MigrateProcess.SIGKILL_EXIT, run.exitCode());
            assertThrows(IOException.class, () -> client.send(HttpRequest.newBuilder(uri.resolve("/v2/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void killWhen_directoryFillsUp_killsTheChild() throws Exception {
        Path ipfs = tmp.resolve("ipfs");
        try (MigrateProcess run = serve("serve")) {
            assertTrue(run.killWhen(ipfs, dir -> MigrateProcess.directoryBytes(dir) > 0, Duration.ofMinutes(1)),
                    "serve exited on its own: " + run.stderr());
            assertFalse(run.isAlive());
            assertEquals(MigrateProcess.SIGKILL_EXIT, run.exitCode());
            assertTrue(MigrateProcess.directoryBytes(ipfs) > 0);
        }
    }

    @Test
    void killWhen_childExitsFirst_returnsFalse() throws Exception {
        try (MigrateProcess run = MigrateProcess.start(tmp.resolve("run"), List.of("--version"), Map.of())) {
            assertFalse(run.killWhen(tmp.resolve("never"), dir -> false, Duration.ofMinutes(1)));
            assertEquals(0, run.exitCode());
        }
    }

    private MigrateProcess serve(String command) {
        return MigrateProcess.builder(tmp.resolve("run")).args(command)
                .env("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0")
                .env("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString())
                .env("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString())
                .start();
    }
}
