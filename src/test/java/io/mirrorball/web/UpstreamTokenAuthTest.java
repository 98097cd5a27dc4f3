package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.TestTokenIssuer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pull-through from a docker-registry with token auth (auth.token), issued by {@link TestTokenIssuer}. */
final class UpstreamTokenAuthTest {
    @TempDir
    Path tmp;
    private TestTokenIssuer issuer;
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
        if (issuer != null) {
            issuer.close();
        }
    }

    private void startUpstream() throws Exception {
        issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "bob", "hunter2");
        DockerRegistry.Builder builder = DockerRegistry.builder(tmp.resolve("registry"));
        issuer.registryEnv().forEach(builder::env);
        registry = builder.start();
    }

    @Test
    void pull_tokenAuthUpstream_imageAndIndexWithSameDigests() throws Exception {
        startUpstream();
        Skopeo pusher = Skopeo.in(tmp.resolve("skopeo-push")).login(registry.hostPort(), "bob", "hunter2");
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(21).layers(2, 1024 * 1024, true)
                .build("v1");
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(tmp.resolve("layout-multi")).seed(22)
                .layers(1, 256 * 1024, true).buildMultiArch("v1");
        pusher.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/org/app:v1");
        pusher.copyAll(multi.skopeoRef(), "docker://" + registry.hostPort() + "/org/multi:v1");
        int issuedForPush = issuer.issued();

        gateway = TestGateway.start(tmp.resolve("gw"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", registry.uri().toString(),
                "MIRRORBALL_UPSTREAM_USERNAME", "bob",
                "MIRRORBALL_UPSTREAM_PASSWORD", "hunter2"));
        String gw = gateway.client().base().getAuthority();
        Skopeo puller = Skopeo.in(tmp.resolve("skopeo-pull"));
        puller.copy("docker://" + gw + "/org/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        assertEquals(image.manifestDigest(), Digest.ofBytes(puller.inspectRaw("docker://" + gw + "/org/app:v1")
                .getBytes(StandardCharsets.UTF_8)));
        for (Digest layer : image.layerDigests()) {
            assertEquals(layer.hex(), UpstreamPullThroughTest.sha256(tmp.resolve("out/blobs/sha256/" + layer.hex())));
        }
        int issuedForApp = issuer.issued() - issuedForPush;
        assertEquals(1, issuedForApp, "one token for repository:org/app:pull, cached for every request");

        issuer.useAccessTokenField(true);
        puller.copyAll("docker://" + gw + "/org/multi:v1", "oci:" + tmp.resolve("out-multi") + ":v1");
        assertEquals(multi.indexDigest(), Digest.ofBytes(puller.inspectRaw("docker://" + gw + "/org/multi:v1")
                .getBytes(StandardCharsets.UTF_8)));
        assertEquals(issuedForPush + 2, issuer.issued(), "a second scope, a second token (access_token form)");
    }

    @Test
    void pull_wrongUpstreamCredentials_clearDenied() throws Exception {
        startUpstream();
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", registry.uri().toString(),
                "MIRRORBALL_UPSTREAM_USERNAME", "bob",
                "MIRRORBALL_UPSTREAM_PASSWORD", "wrong"));
        HttpResponse<byte[]> r = gateway.client().get("/v2/org/app/manifests/v1");
        var error = RegistryClient.assertOciError(r, 403, "DENIED");
        assertTrue(error.get("detail").asText().contains("token service refused"), error.toString());
    }
}
