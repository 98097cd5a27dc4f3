package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upstream.publish: an image pulled through is published as a CID once all of it is in IPFS, and
 * gets the same CID as the same image pushed straight to a mirrorball.
 */
final class UpstreamPublishTest {
    @TempDir
    Path tmp;
    private DockerRegistry registry;
    private TestGateway proxy;
    private TestGateway direct;

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : new AutoCloseable[]{proxy, direct, registry}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static Optional<String> cid(TestGateway gateway, String repoAndTag) {
        String[] parts = repoAndTag.split(":");
        HttpResponse<byte[]> head = gateway.client().head("/v2/" + parts[0] + "/manifests/" + parts[1],
                "Accept", "application/vnd.oci.image.manifest.v1+json");
        assertEquals(200, head.statusCode());
        return head.headers().firstValue("X-Ipfs-Path").map(p -> p.substring("/ipfs/".length()));
    }

    @Test
    void pullThrough_withPublish_getsTheSameCidAsAPush() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(77)
                .layers(2, 1024 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/lib/app:v1");
        proxy = TestGateway.start(tmp.resolve("proxy"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", registry.uri().toString(),
                "MIRRORBALL_UPSTREAM_PUBLISH", "true"));
        direct = TestGateway.start(tmp.resolve("direct"), Map.of());

        // a pull through mirrors the blobs; the image is published once all of them are in IPFS
        skopeo.copy("docker://" + proxy.client().base().getAuthority() + "/lib/app:v1", "oci:" + tmp.resolve("out")
                + ":v1");
        String published = null;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (published == null && System.nanoTime() < deadline) {
            published = cid(proxy, "lib/app:v1").orElse(null);
            if (published == null) {
                Thread.sleep(200);
            }
        }
        assertTrue(published != null && published.startsWith("bafy"), "published after the pull: " + published);

        skopeo.copy(image.skopeoRef(), "docker://" + direct.client().base().getAuthority() + "/other/name:x");
        assertEquals(cid(direct, "other/name:x").orElseThrow(), published, "same image, same CID");

        // and it is pullable by that CID from the proxy
        HttpResponse<byte[]> byCid = proxy.client().get("/v2/" + published + "/manifests/latest");
        assertEquals(200, byCid.statusCode());
        assertEquals(image.manifestDigest(), Digest.ofBytes(byCid.body()));
        assertEquals(image.manifestDigest(), Digest.ofBytes(
                skopeo.inspectRaw("docker://" + proxy.client().base().getAuthority() + "/" + published + ":latest")
                        .getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void pullThrough_withoutPublish_hasNoCid() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(78)
                .layers(1, 256 * 1024, true).build("v1");
        skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
        proxy = TestGateway.start(tmp.resolve("proxy"), Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
        skopeo.copy("docker://" + proxy.client().base().getAuthority() + "/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        Thread.sleep(1000);
        assertTrue(cid(proxy, "app:v1").isEmpty(), "upstream.publish is off by default");
    }
}
