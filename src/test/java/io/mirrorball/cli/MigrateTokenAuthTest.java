package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.testing.SourceRegistryFixture;
import io.mirrorball.testing.TestTokenIssuer;
import io.mirrorball.web.TestGateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code migrate} from a docker-registry behind token auth (an {@code auth.token} issuer), with the credential files people have. */
final class MigrateTokenAuthTest {
    @TempDir
    static Path shared;

    static TestTokenIssuer issuer;
    static SourceRegistryFixture source;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        issuer = TestTokenIssuer.start(shared.resolve("issuer"), "bob", "hunter2");
        source = SourceRegistryFixture.builder(shared.resolve("source")).authEnv(issuer.registryEnv(), "bob", "hunter2")
                .start();
    }

    @AfterAll
    static void stop() {
        source.close();
        issuer.close();
    }

    private String authJson(String user, String password) {
        String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return "{\"auths\":{\"" + source.hostPort() + "\":{\"auth\":\"" + auth + "\"}}}";
    }

    @Test
    void migrate_authFile_copiesTheWholeRegistry() throws Exception {
        Path authFile = tmp.resolve("auth.json");
        Files.writeString(authFile, authJson("bob", "hunter2"));
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            int tokensBefore = issuer.issued();

            MigrateCommandTest.Run run = MigrateCommandTest.run(Map.of(), "migrate", "--to", gateway.uri().toString(),
                    "--src-plain-http", "--authfile", authFile.toString(), "--progress", "plain", "--output", "json",
                    "--state-dir", tmp.resolve("state").toString(), "docker://" + source.hostPort());

            assertEquals(0, run.code(), run.err());
            JsonNode results = run.json();
            assertEquals(source.references().size(), results.size(), run.out());
            for (JsonNode result : results) {
                String reference = result.get("source").asText().substring(("docker://" + source.hostPort() + "/").length());
                assertEquals(source.digest(reference).toString(), result.get("digest").asText(), reference);
            }
            int tokens = issuer.issued() - tokensBefore;
            // one per scope (catalog, and pull of each repository), never one per request
            assertTrue(tokens >= 4 && tokens <= 8, tokens + " tokens for 1 catalog and 3-4 repositories");
        }
    }

    /** ~/.docker/config.json of the user running it (HOME), as docker login writes it. */
    @Test
    void migrate_dockerConfigInHome_isUsed() throws Exception {
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve(".docker"));
        Files.writeString(home.resolve(".docker").resolve("config.json"), authJson("bob", "hunter2"));
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            MigrateCommandTest.Run run = MigrateCommandTest.run(Map.of("HOME", home.toString()), "migrate",
                    "--to", gateway.uri().toString(), "--src-plain-http", "--progress", "plain", "--output", "json",
                    "--state-dir", tmp.resolve("state").toString(), "docker://" + source.hostPort() + "/legacy:v1");

            assertEquals(0, run.code(), run.err());
            assertEquals(source.digest("legacy:v1").toString(), run.json().get(0).get("digest").asText());
        }
    }

    @Test
    void migrate_wrongOrNoCredentials_deniedWithoutShowingThePassword() throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            MigrateCommandTest.Run wrong = MigrateCommandTest.run(Map.of("HOME", tmp.resolve("empty").toString()),
                    "migrate", "--to", gateway.uri().toString(), "--src-plain-http", "--src-creds", "bob:s3cret-wrong",
                    "--progress", "plain", "--output", "json", "--state-dir", tmp.resolve("state").toString(),
                    "docker://" + source.hostPort() + "/app:1.0.0");

            assertEquals(1, wrong.code(), wrong.err());
            assertEquals("DENIED", wrong.json().get(0).path("error").path("kind").asText(), wrong.out());
            assertFalse(wrong.out().contains("s3cret-wrong") || wrong.err().contains("s3cret-wrong"));

            MigrateCommandTest.Run anonymous = MigrateCommandTest.run(Map.of("HOME", tmp.resolve("empty").toString()),
                    "migrate", "--to", gateway.uri().toString(), "--src-plain-http", "--progress", "none",
                    "--output", "json", "--state-dir", tmp.resolve("state").toString(),
                    "docker://" + source.hostPort() + "/app:1.0.0");
            assertEquals(1, anonymous.code(), anonymous.err());
            assertEquals("DENIED", anonymous.json().get(0).path("error").path("kind").asText(), anonymous.out());
        }
    }
}
