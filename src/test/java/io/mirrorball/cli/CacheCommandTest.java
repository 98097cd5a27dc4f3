package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.web.TestGateway;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mirrorball cache ls} and {@code cache prune} beside a running gateway on Kubo that pulled an image
 * through from a real docker-registry.
 */
final class CacheCommandTest {
    @TempDir
    Path tmp;
    private DockerRegistry registry;
    private TestGateway gateway;

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private record Run(int code, String out, String err) {
    }

    private Run mirrorball(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(gateway.env());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString().trim(), err.toString().trim());
    }

    @Test
    void ls_afterPullThrough_listsEveryBlobWithSizeAndOrigin() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(5).layer(70_000, true)
                .build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/team/app:v1");
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
        skopeo.copy("docker://" + gateway.uri().getAuthority() + "/team/app:v1", "dir:" + tmp.resolve("out"));

        Run ls = mirrorball("cache", "ls");

        assertEquals(0, ls.code(), ls.err());
        Digest layer = image.layerDigests().get(0);
        assertTrue(ls.out().lines().anyMatch(l -> l.startsWith(layer.toString())
                        && l.contains(" " + image.layers().get(0).size() + " ") && l.endsWith("/team/app")),
                ls.out());
        assertTrue(ls.out().contains(image.config().digest().toString()), ls.out());

        Run json = mirrorball("cache", "ls", "--output", "json");
        assertEquals(0, json.code(), json.err());
        assertTrue(json.out().startsWith("[") && json.out().contains("\"digest\":\"" + layer + "\""), json.out());

        Run dryRun = mirrorball("cache", "prune", "--dry-run");
        assertEquals(0, dryRun.code(), dryRun.err());
        assertTrue(dryRun.out().contains("would remove 0 items"), "no limits configured: " + dryRun.out());

        Run prune = mirrorball("cache", "prune");
        assertEquals(StoreCommands.EXIT_STORE_UNUSABLE, prune.code(), "the gateway holds the ledger: " + prune.err());
        assertTrue(prune.err().contains("running gateway"), prune.err());
    }
}
