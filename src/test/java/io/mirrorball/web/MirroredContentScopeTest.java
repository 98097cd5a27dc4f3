package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.testing.DockerRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the pull-through mirror may serve from the store: content it fetched from an upstream, under any
 * name, and never content that was only pushed here (that stays in its repository, behind its access
 * rules). Real upstream: Debian's docker-registry.
 */
final class MirroredContentScopeTest {
    @TempDir
    Path tmp;
    private DockerRegistry registry;
    private TestGateway gateway;

    @BeforeEach
    void setUp() throws Exception {
        registry = DockerRegistry.builder(tmp.resolve("registry")).start();
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        gateway.close();
        registry.close();
    }

    @Test
    void pushedContent_notServedByDigestUnderAnotherName() {
        RegistryClient client = gateway.client();
        TestImages.Image image = client.pushImage("private/app", "v1", 1);
        String layer = image.blobs().get(1).digest();
        assertEquals(200, client.get("/v2/private/app/blobs/" + layer).statusCode());

        RegistryClient.assertOciError(client.get("/v2/elsewhere/blobs/" + layer), 404, "BLOB_UNKNOWN");
        assertEquals(404, client.head("/v2/elsewhere/blobs/" + layer).statusCode());
        RegistryClient.assertOciError(client.get("/v2/elsewhere/manifests/" + image.digest()), 404,
                "MANIFEST_UNKNOWN");
    }

    @Test
    void imagePulledThrough_pushedUnderNewNameWithoutUploads_blobsJoinTheRepository() throws Exception {
        RegistryClient upstream = new RegistryClient(registry.uri());
        TestImages.Image image = TestImages.ociImage(2);
        for (TestImages.Blob blob : image.blobs()) {
            upstream.pushBlobInSession("team/app", blob.content()); // distribution takes no monolithic POST
        }
        upstream.pushManifest("team/app", "v1", image.manifest(), image.mediaType());
        RegistryClient client = gateway.client();
        assertEquals(200, client.get("/v2/team/app/manifests/v1").statusCode());
        for (TestImages.Blob blob : image.blobs()) {
            assertArrayEquals(blob.content(), client.get("/v2/team/app/blobs/" + blob.digest()).body());
        }
        // a client pushing the image elsewhere asks HEAD of each blob first; once mirrored, the mirror says 200
        for (TestImages.Blob blob : image.blobs()) {
            awaitHead(client, "/v2/mine/app/blobs/" + blob.digest());
        }
        // so it uploads nothing, and the manifest PUT must still succeed
        client.pushManifest("mine/app", "v1", image.manifest(), image.mediaType());
        for (TestImages.Blob blob : image.blobs()) {
            HttpResponse<byte[]> got = client.get("/v2/mine/app/blobs/" + blob.digest());
            assertEquals(200, got.statusCode(), blob.digest());
            assertArrayEquals(blob.content(), got.body());
        }
    }

    private static void awaitHead(RegistryClient client, String path) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        int status;
        while ((status = client.head(path).statusCode()) != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("HEAD " + path + " still answers " + status + " after 30 s");
            }
            Thread.sleep(100);
        }
    }
}
