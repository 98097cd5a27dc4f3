package io.mirrorball.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The source registry for the migrate tests holds exactly what it says, and its access log counts bytes. */
final class SourceRegistryFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void start_withHtpasswd_servesEveryReferenceWithItsDigest() throws Exception {
        try (SourceRegistryFixture source = SourceRegistryFixture.builder(tmp.resolve("source"))
                .htpasswd("alice", "s3cret").start()) {
            assertEquals(Set.of("app:1.0.0", "app:1.1.0", "app:2.0.0-rc.1", "app:latest", "org/tools:multi",
                    "org/tools:1.0", "legacy:v1", "app:" + source.referrerFallbackTag()), source.references().keySet());
            assertEquals("alice", source.credentials().orElseThrow().username());
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo")).login(source.hostPort(), "alice", "s3cret");
            for (Map.Entry<String, Digest> reference : source.references().entrySet()) {
                String raw = skopeo.inspectRaw("docker://" + source.hostPort() + "/" + reference.getKey());
                assertEquals(reference.getValue(), Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)),
                        reference.getKey());
            }
            assertEquals(source.digest("app:1.1.0"), source.digest("app:latest"));
            assertNotEquals(source.digest("app:1.0.0"), source.digest("app:1.1.0"));

            JsonNode legacy = raw(skopeo, source, "legacy:v1");
            assertEquals(MediaTypes.DOCKER_MANIFEST, legacy.path("mediaType").asText());

            JsonNode multi = raw(skopeo, source, "org/tools:multi");
            assertEquals(MediaTypes.OCI_INDEX, multi.path("mediaType").asText());
            assertEquals(2, multi.path("manifests").size());
            assertEquals(Set.of("linux/amd64", "linux/arm64"), source.platformDigests().keySet());

            JsonNode app100 = raw(skopeo, source, "app:1.0.0");
            JsonNode app200 = raw(skopeo, source, "app:2.0.0-rc.1");
            JsonNode tools10 = raw(skopeo, source, "org/tools:1.0");
            String base = app100.path("layers").path(0).path("digest").asText();
            assertEquals(base, app200.path("layers").path(0).path("digest").asText(), "a shared base layer");
            assertEquals(base, tools10.path("layers").path(0).path("digest").asText(), "shared across repositories");
            assertTrue(source.blobSizes().containsKey(Digest.parse(base)));

            JsonNode fallback = raw(skopeo, source, "app:" + source.referrerFallbackTag());
            assertEquals(MediaTypes.OCI_INDEX, fallback.path("mediaType").asText());
            assertEquals(1, fallback.path("manifests").size());
            assertEquals(source.referrerDigest().toString(), fallback.path("manifests").path(0).path("digest").asText());
            assertEquals(SourceRegistryFixture.REFERRER_ARTIFACT_TYPE,
                    fallback.path("manifests").path(0).path("artifactType").asText());

            String referrerRaw = skopeo.inspectRaw("docker://" + source.hostPort() + "/app@" + source.referrerDigest());
            assertEquals(source.referrerDigest(), Digest.ofBytes(referrerRaw.getBytes(StandardCharsets.UTF_8)));
            JsonNode referrer = JSON.readTree(referrerRaw);
            assertEquals(source.digest("app:1.1.0").toString(), referrer.path("subject").path("digest").asText());
            assertEquals(SourceRegistryFixture.REFERRER_ARTIFACT_TYPE, referrer.path("artifactType").asText());
        }
    }

    @Test
    void accessLog_blobGetAndRangeGet_countsTheirBytesPerDigest() throws Exception {
        try (SourceRegistryFixture source = SourceRegistryFixture.builder(tmp.resolve("source"))
                .bigLayer(1 << 20).start()) {
            Digest big = source.bigLayerDigest().orElseThrow();
            long size = source.blobSizes().get(big);
            assertTrue(size > 1 << 20, "gzip of random bytes is a little larger: " + size);
            AccessLog log = source.accessLog();
            log.settle();
            long before = log.blobBytesServed().getOrDefault(big, 0L);
            long beforePrefix = log.bytesServed("GET", "/v2/big/blobs/");

            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(
                    source.uri().resolve("/v2/big/blobs/" + big)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            long read;
            try (InputStream body = response.body()) {
                read = body.transferTo(java.io.OutputStream.nullOutputStream());
            }
            assertEquals(size, read);

            assertEquals(before + size, log.blobBytesServed().get(big));
            assertEquals(beforePrefix + size, log.bytesServed("GET", "/v2/big/blobs/"));
            assertEquals(0, log.bytesServed("GET", "/v2/nothing-here/"));

            // a resumed download: a Range GET is logged as 206 with the bytes from the offset on
            HttpResponse<InputStream> ranged = client.send(HttpRequest.newBuilder(
                    source.uri().resolve("/v2/big/blobs/" + big)).header("Range", "bytes=1000-")
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(206, ranged.statusCode());
            try (InputStream body = ranged.body()) {
                assertEquals(size - 1000, body.transferTo(java.io.OutputStream.nullOutputStream()));
            }
            assertEquals(before + size + size - 1000, log.blobBytesServed().get(big));
            AccessLog.Entry last = log.entries().get(log.entries().size() - 1);
            assertEquals(new AccessLog.Entry("GET", "/v2/big/blobs/" + big, 206, size - 1000), last);
        }
    }

    private static JsonNode raw(Skopeo skopeo, SourceRegistryFixture source, String reference) throws Exception {
        return JSON.readTree(skopeo.inspectRaw("docker://" + source.hostPort() + "/" + reference));
    }
}
