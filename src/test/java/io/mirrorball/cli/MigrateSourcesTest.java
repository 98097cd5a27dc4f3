package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.web.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code migrate} from OCI layouts and {@code docker save} archives, good and damaged, into a real gateway. */
final class MigrateSourcesTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private MigrateCommandTest.Run migrate(TestGateway gateway, String source) {
        return MigrateCommandTest.run(Map.of(), "migrate", "--to", gateway.uri().toString(), "--progress", "plain",
                "--output", "json", "--state-dir", tmp.resolve("state").toString(), source);
    }

    @Test
    void migrate_ociLayout_byteIdenticalUnderTheDirectorysName() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("webapp")).seed(5).layers(2, 300_000, true)
                .build("2.1");
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            MigrateCommandTest.Run run = migrate(gateway, "oci:" + image.dir() + ":2.1");

            assertEquals(0, run.code(), run.err());
            assertEquals(image.manifestDigest().toString(), run.json().get(0).get("digest").asText());
            assertEquals(image.manifestDigest(), Digest.ofBytes(MigrateCommandTest.manifest(gateway.uri(), "webapp", "2.1")));
            assertEquals(run.json().get(0).get("cid").asText(), MigrateCommandTest.ipfsPath(gateway.uri(), "webapp:2.1"));
        }
    }

    /** A layer whose bytes do not match its digest: the image fails, and no tag appears at the destination. */
    @Test
    void migrate_tamperedLayerInLayout_invalidSourceAndNothingTagged() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("bad")).seed(6).layers(1, 200_000, true)
                .build("1");
        Digest layer = image.layerDigests().get(0);
        Path blob = image.dir().resolve("blobs").resolve("sha256").resolve(layer.hex());
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(blob, bytes);
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            MigrateCommandTest.Run run = migrate(gateway, "oci:" + image.dir() + ":1");

            assertEquals(1, run.code(), run.err());
            JsonNode error = run.json().get(0).path("error");
            assertEquals("INVALID_SOURCE", error.path("kind").asText(), run.out());
            assertFalse(error.path("message").asText().contains("Exception"), run.out());
            assertEquals(404, head(gateway.uri(), "bad", "1"));
        }
    }

    /** A docker save archive written by skopeo, then the same archive cut short. */
    @Test
    void migrate_dockerArchive_copiedThenTruncatedRefused() throws Exception {
        Skopeo.requireBinary();
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(7).layers(2, 300_000, true)
                .build("v1");
        Path archive = tmp.resolve("app.tar");
        Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker-archive:" + archive + ":shop/app:v1");
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            MigrateCommandTest.Run run = migrate(gateway, "docker-archive:" + archive);

            assertEquals(0, run.code(), run.err());
            String digest = run.json().get(0).get("digest").asText();
            assertEquals(digest, Digest.ofBytes(MigrateCommandTest.manifest(gateway.uri(), "shop/app", "v1")).toString());

            Path cut = tmp.resolve("cut.tar");
            Files.copy(archive, cut);
            try (FileChannel channel = FileChannel.open(cut, StandardOpenOption.WRITE)) {
                channel.truncate(channel.size() / 2);
            }
            MigrateCommandTest.Run truncated = migrate(gateway, "docker-archive:" + cut);
            assertEquals(1, truncated.code(), truncated.err());
            assertEquals("INVALID_SOURCE", truncated.json().get(0).path("error").path("kind").asText(), truncated.out());
        }
    }

    private static int head(URI gateway, String repository, String tag) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(gateway.resolve("/v2/" + repository + "/manifests/" + tag))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
