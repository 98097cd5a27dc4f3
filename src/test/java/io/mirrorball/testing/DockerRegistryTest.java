package io.mirrorball.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rig itself: skopeo moves a built layout through Debian's docker-registry intact. */
final class DockerRegistryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void copy_throughDockerRegistry_keepsDigests() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).layer(300_000, true)
                .layer(200_000, true).layer(1000, true).build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"))) {
            skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/org/team/app:v1");
            String raw = skopeo.inspectRaw("docker://" + registry.hostPort() + "/org/team/app:v1");
            assertEquals(image.manifestDigest(), Digest.ofBytes(raw.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            Path out = tmp.resolve("out");
            skopeo.copy("docker://" + registry.hostPort() + "/org/team/app:v1", "dir:" + out);
            for (Digest layer : image.layerDigests()) {
                assertTrue(Files.isRegularFile(out.resolve(layer.hex())), "layer " + layer);
            }
            assertTrue(Files.readString(registry.log()).contains("/v2/org/team/app/manifests/v1"),
                    "access log records the requests");
        }
    }

    @Test
    void start_withHtpasswd_refusesAnonymousAndAcceptsTheUser() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).layer(1000, true).build("v1");
        try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("registry"))
                .htpasswd("alice", "s3cret").start()) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(registry.uri().resolve("/v2/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));

            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
            Skopeo.Result refused = skopeo.run(List.of("copy", "--dest-tls-verify=false", image.skopeoRef(),
                    "docker://" + registry.hostPort() + "/app:v1"));
            assertNotEquals(0, refused.exitCode());

            skopeo.login(registry.hostPort(), "alice", "s3cret");
            skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            JsonNode tags = JSON.readTree(skopeo.listTags("docker://" + registry.hostPort() + "/app"));
            assertEquals("v1", tags.path("Tags").path(0).asText());
        }
    }

    @Test
    void start_asPullThroughProxy_servesTheRemoteImage() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).layer(100_000, true)
                .layer(2000, true).build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        try (DockerRegistry remote = DockerRegistry.start(tmp.resolve("remote"));
             DockerRegistry proxy = DockerRegistry.builder(tmp.resolve("proxy")).proxy(remote.uri().toString())
                     .start()) {
            skopeo.copy(image.skopeoRef(), "docker://" + remote.hostPort() + "/library/app:v1");

            Path out = tmp.resolve("out");
            skopeo.copy("docker://" + proxy.hostPort() + "/library/app:v1", "dir:" + out);
            assertEquals(image.manifestDigest(), Digest.ofBytes(Files.readAllBytes(out.resolve("manifest.json"))));
            assertTrue(Files.readString(remote.log()).contains("/v2/library/app/manifests/v1"),
                    "the proxy fetched from the remote");
        }
    }
}
