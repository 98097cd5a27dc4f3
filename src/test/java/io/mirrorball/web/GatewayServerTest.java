package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.oci.Digest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway boots on embedded Jetty from the same web.xml as the WAR, on the embedded node. */
final class GatewayServerTest {
    @TempDir
    Path tmp;
    private GatewayServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = GatewayServer.start(ConfigLoader.load(Optional.empty(), Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString(),
                "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString())));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void start_servesVersionCheckAndMetrics() throws Exception {
        HttpResponse<String> v2 = http.send(HttpRequest.newBuilder(server.uri().resolve("/v2/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, v2.statusCode());
        assertEquals("registry/2.0", v2.headers().firstValue("Docker-Distribution-API-Version").orElse(""));
        assertTrue(v2.headers().firstValue("X-Request-Id").isPresent());
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                metrics.headers().toString());
        assertEquals(1, PrometheusText.parse(metrics.body()).value("mirrorball_http_requests_seconds_count",
                java.util.Map.of("route", "base", "status", "2xx")), metrics.body());
    }

    @Test
    void pushAndPull_blobAndManifest() throws Exception {
        byte[] blob = "hello mirrorball".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.ofBytes(blob);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/blobs/uploads/?digest=" + digest)).POST(HttpRequest.BodyPublishers.ofByteArray(blob))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.ofBytes(config);
        assertEquals(201, http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/blobs/uploads/?digest=" + configDigest)).POST(HttpRequest.BodyPublishers
                .ofByteArray(config)).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":2},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + digest + "\",\"size\":" + blob.length
                + "}]}";
        HttpResponse<String> putManifest = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/manifests/v1")).header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString(manifest)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, putManifest.statusCode(), putManifest.body());
        HttpResponse<byte[]> getBlob = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/blobs/" + digest)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, getBlob.statusCode());
        assertArrayEquals(blob, getBlob.body());
        HttpResponse<String> getManifest = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/manifests/v1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, getManifest.statusCode());
        assertEquals(manifest, getManifest.body());
        assertEquals("application/vnd.oci.image.manifest.v1+json",
                getManifest.headers().firstValue("Content-Type").orElse(""));
        HttpResponse<String> tags = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/smoke/app/tags/list")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"name\":\"smoke/app\",\"tags\":[\"v1\"]}", tags.body());
        HttpResponse<String> catalog = http.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/_catalog")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"repositories\":[\"smoke/app\"]}", catalog.body());
    }

    @Test
    void errors_areOciJsonNever500() throws Exception {
        for (String path : new String[]{"/v2/UPPER/tags/list", "/v2/%2e%2e/tags/list", "/v2/a/../../b/tags/list",
                "/v2/a/blobs/sha256:zz", "/nothing", "/v2/nothing/here/x"}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.uri() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, path + " gave " + r.statusCode());
            assertTrue(r.body().startsWith("{\"errors\":[{\"code\":"), path + " gave " + r.body());
        }
    }
}
