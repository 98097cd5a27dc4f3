package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

final class MainTest {
    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        CommandLine commandLine = Main.commandLine(env);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    private Path yaml(String text) throws Exception {
        Path file = tmp.resolve("bad.yml");
        Files.writeString(file, text);
        return file;
    }

    private void assertNoStackTrace() {
        assertFalse(err.toString().contains("\tat "), "stack trace printed: " + err);
        assertFalse(err.toString().contains("Exception"), "exception printed: " + err);
    }

    @Test
    void help_listsCommands() {
        assertEquals(0, run(Map.of(), "--help"));
        assertTrue(out.toString().startsWith("Usage: mirrorball"), out.toString());
        assertTrue(out.toString().contains("serve"), out.toString());
        assertTrue(out.toString().contains("fsck"), out.toString());
        assertTrue(out.toString().contains("export"), out.toString());
        assertTrue(out.toString().contains("import"), out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void serveHelp_documentsConfigOption() {
        assertEquals(0, run(Map.of(), "serve", "--help"));
        assertTrue(out.toString().startsWith("Usage: mirrorball serve"), out.toString());
        assertTrue(out.toString().contains("--config=FILE"), out.toString());
        assertTrue(out.toString().contains("MIRRORBALL_"), out.toString());
    }

    @Test
    void version_printsVersion() {
        assertEquals(0, run(Map.of(), "--version"));
        assertTrue(out.toString().startsWith("mirrorball "), out.toString());
        assertTrue(out.toString().contains("Java " + System.getProperty("java.version")), out.toString());
    }

    @Test
    void noCommand_isUsageError() {
        assertEquals(2, run(Map.of()));
        assertTrue(err.toString().contains("Missing command"), err.toString());
    }

    @Test
    void unknownOption_isUsageError() {
        assertEquals(2, run(Map.of(), "serve", "--bogus"));
        assertTrue(err.toString().contains("--bogus"), err.toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            storage: { uploads: { expire-after: abc } }   | storage.uploads.expire-after: invalid duration 'abc' (use e.g. 30s, 5m, 24h)
            http: { addr: ':99999' }                      | http.addr: port 99999 out of range
            storage: { ipfs: { mfs-root: relative } }     | storage.ipfs.mfs-root: must be an absolute MFS path
            upstream: { url: 'ftp://x' }                  | upstream.url: invalid URL 'ftp://x'
            auth: { anonymous-pull: sometimes }           | auth.anonymous-pull: invalid boolean 'sometimes'
            htpp: { addr: ':5000' }                       | htpp: unknown configuration key
            """)
    void serve_invalidConfigFile_exits2NamingKey(String text, String message) throws Exception {
        assertEquals(2, run(Map.of(), "serve", "--config", yaml(text).toString()));
        assertTrue(err.toString().startsWith("mirrorball: invalid configuration: " + message), err.toString());
        assertNoStackTrace();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({"MIRRORBALL_HTTP_ADDR,nope,http.addr: invalid address 'nope'",
            "MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT,10,storage.ipfs.clone-timeout: invalid duration '10'",
            "MIRRORBALL_STORAGE_IPFS_NODE,'http://a:5001,http://b:5001',storage.ipfs.node: must be one Kubo RPC URL",
            "MIRRORBALL_HTTP_PORT,5000,MIRRORBALL_HTTP_PORT: unknown environment variable"})
    void serve_invalidEnvironment_exits2NamingKey(String name, String value, String message) {
        assertEquals(2, run(Map.of(name, value), "serve"));
        assertTrue(err.toString().startsWith("mirrorball: invalid configuration: " + message), err.toString());
        assertNoStackTrace();
    }

    @Test
    void serve_missingConfigFile_exits2NamingFile() {
        Path missing = tmp.resolve("missing.yml");
        assertEquals(2, run(Map.of(), "serve", "-c", missing.toString()));
        assertTrue(err.toString().contains(missing + ": config file not found"), err.toString());
        assertNoStackTrace();
    }

    @Test
    void serve_withoutConfigOption_usesConfInWorkingDirectoryWithEnv() {
        CommandLine commandLine = Main.commandLine(Map.of("MIRRORBALL_UPSTREAM_TAG_TTL", "7s"));
        commandLine.parseArgs("serve");
        ServeCommand serve = commandLine.getSubcommands().get("serve").getCommand();
        MirrorballConfig loaded = serve.loadConfig();
        // the tests run in the project directory, which ships conf/mirrorball.yml (= the defaults)
        assertTrue(Files.isRegularFile(ConfigOption.DEFAULT_CONFIG));
        assertEquals(ConfigLoader.load(Optional.empty(), Map.of("MIRRORBALL_UPSTREAM_TAG_TTL", "7s")), loaded);
        assertEquals(Duration.ofSeconds(7), loaded.upstream().tagTtl());
    }

    @Test
    void serve_validConfig_startsGatewayAndStopsOnInterrupt() throws Exception {
        Map<String, String> env = Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString(),
                "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        AtomicInteger exit = new AtomicInteger(-1);
        Thread serving = new Thread(() -> exit.set(run(env, "serve")), "main-test-serve");
        serving.start();
        try {
            Pattern listening = Pattern.compile("listening on (http://\\S+)");
            Matcher matcher = listening.matcher("");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && serving.isAlive()) {
                matcher = listening.matcher(out.toString());
                if (matcher.find()) {
                    break;
                }
                Thread.sleep(50);
            }
            assertTrue(matcher.find(0), "no 'listening on' line; out: " + out + " err: " + err);
            URI uri = URI.create(matcher.group(1));
            HttpResponse<String> ping = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(uri.resolve("/v2/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ping.statusCode(), ping.body());
            assertNotNull(ping.headers().firstValue("Docker-Distribution-API-Version").orElse(null));
        } finally {
            serving.interrupt();
            serving.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertFalse(serving.isAlive(), "serve did not stop");
        assertEquals(1, exit.get(), "an interrupted serve exits 1; err: " + err);
    }

    @Test
    void serve_kuboRefusesSecret_exits2WithOneLine() throws Exception {
        try (io.mirrorball.testing.KuboNode kubo = io.mirrorball.testing.KuboNode.startAuthorized(tmp.resolve("kubo"),
                "basic:mirror:r1ght-s3cr3t")) {
            Map<String, String> env = Map.of(
                    "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                    "MIRRORBALL_STORAGE_IPFS_NODE", kubo.apiUrl().toString().replace("://", "://mirror:wr0ng-s3cr3t@"),
                    "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
            assertEquals(2, run(env, "serve"));
        }
        assertEquals("mirrorball: invalid configuration: storage.ipfs.node: the Kubo RPC API refused the credentials"
                + " (API.Authorizations)", err.toString().strip());
        assertFalse(err.toString().contains("s3cr3t") || out.toString().contains("s3cr3t"), err.toString());
        assertNoStackTrace();
    }
}
