package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.upstream.FakeUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults a real registry cannot produce, from a fake upstream, through a real gateway. */
final class UpstreamFaultsTest {
    @TempDir
    Path tmp;
    private FakeUpstream fake;
    private TestGateway gateway;

    @BeforeEach
    void setUp() throws Exception {
        fake = FakeUpstream.start();
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", fake.uri().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        gateway.close();
        fake.close();
    }

    private static byte[] random(int size, long seed) {
        byte[] content = new byte[size];
        new Random(seed).nextBytes(content);
        return content;
    }

    /** Reads a streamed body; returns the byte count, or -1 when the connection broke. */
    private static long drain(HttpResponse<InputStream> r) {
        long total = 0;
        try (InputStream in = r.body()) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
            }
            return total;
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    void manifest_upstream429_tooManyRequestsWithRetryAfter() {
        fake.on("/v2/busy/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 429,
                Map.of("Retry-After", "17", "Content-Type", "application/json"),
                "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}".getBytes(StandardCharsets.UTF_8)));
        HttpResponse<byte[]> r = gateway.client().get("/v2/busy/manifests/v1");
        RegistryClient.assertOciError(r, 429, "TOOMANYREQUESTS");
        assertEquals("17", r.headers().firstValue("Retry-After").orElse(null));
    }

    @Test
    void blob_wrongBytesForDigest_connectionAbortedAndNothingStored() throws Exception {
        byte[] right = random(1024 * 1024, 1);
        byte[] wrong = random(1024 * 1024, 2);
        Digest digest = Digest.ofBytes(right);
        AtomicInteger served = new AtomicInteger();
        fake.on("/v2/evil/blobs/" + digest, (method, socket, out) -> {
            byte[] body = served.incrementAndGet() == 1 ? wrong : right;
            FakeUpstream.respond(out, 200, Map.of("Content-Type", "application/octet-stream"), body);
        });
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", "/v2/evil/blobs/" + digest);
        assertEquals(200, r.statusCode(), "streaming started before the blob was complete");
        long got = drain(r);
        assertTrue(got < right.length, "the client never gets a whole wrong blob: got " + got);
        // nothing was stored: the next pull goes upstream again (and gets the right bytes, now mirrored)
        HttpResponse<InputStream> again = gateway.client().sendStreaming("GET", "/v2/evil/blobs/" + digest);
        assertEquals(200, again.statusCode());
        assertEquals(right.length, drain(again));
        assertEquals(2, fake.count("/v2/evil/blobs/" + digest));
    }

    @Test
    void blob_smallWrongBytes_badGatewayError() {
        byte[] right = random(1000, 3);
        Digest digest = Digest.ofBytes(right);
        fake.on("/v2/evil/blobs/" + digest, (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "application/octet-stream"), random(1000, 4)));
        HttpResponse<byte[]> r = gateway.client().get("/v2/evil/blobs/" + digest);
        JsonNode error = RegistryClient.assertOciError(r, 502, "UNAVAILABLE");
        assertTrue(error.get("detail").asText().contains("do not match"), error.toString());
    }

    @Test
    void blob_resetMidBody_clientAbortedThenNextPullSucceeds() throws Exception {
        byte[] content = random(2 * 1024 * 1024, 5);
        Digest digest = Digest.ofBytes(content);
        AtomicInteger served = new AtomicInteger();
        fake.on("/v2/flaky/blobs/" + digest, (method, socket, out) -> {
            FakeUpstream.writeHead(out, 200, Map.of("Content-Type", "application/octet-stream"), content.length);
            if (served.incrementAndGet() == 1) {
                out.write(content, 0, content.length / 2);
                out.flush();
                Thread.sleep(100);
                FakeUpstream.reset(socket);
                return;
            }
            out.write(content);
            out.flush();
        });
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", "/v2/flaky/blobs/" + digest);
        assertEquals(200, r.statusCode());
        long got = drain(r);
        assertTrue(got < content.length, "aborted, not completed: got " + got);
        HttpResponse<byte[]> again = gateway.client().get("/v2/flaky/blobs/" + digest);
        assertEquals(200, again.statusCode());
        assertEquals(digest, Digest.ofBytes(again.body()));
        // and now it is in IPFS: a third pull does not go upstream
        HttpResponse<byte[]> third = gateway.client().get("/v2/flaky/blobs/" + digest);
        assertEquals(digest, Digest.ofBytes(third.body()));
        assertEquals(2, fake.count("/v2/flaky/blobs/" + digest));
    }

    @Test
    void blob_redirectToAnotherHost_followedWithoutAuthorization() throws Exception {
        byte[] content = random(300 * 1024, 9);
        Digest digest = Digest.ofBytes(content);
        try (FakeUpstream cdn = FakeUpstream.start()) {
            cdn.on("/cdn/blob", (method, socket, out) -> FakeUpstream.respond(out, 200,
                    Map.of("Content-Type", "application/octet-stream"), content));
            // the upstream wants Basic; its blob answer is a redirect to another origin (a CDN)
            fake.on("/v2/", (method, socket, out) -> FakeUpstream.respond(out, 200, Map.of(), new byte[0]));
            fake.on("/v2/org/app/blobs/" + digest, (method, socket, out) -> {
                if (fake.lastHeaders("/v2/org/app/blobs/" + digest).get("authorization") == null) {
                    FakeUpstream.respond(out, 401, Map.of("WWW-Authenticate", "Basic realm=\"fake\"",
                            "Content-Type", "application/json"), "{\"errors\":[]}".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                FakeUpstream.respond(out, 307, Map.of("Location", cdn.uri() + "/cdn/blob"), new byte[0]);
            });
            gateway.close();
            gateway = TestGateway.start(tmp.resolve("gw2"), Map.of("MIRRORBALL_UPSTREAM_URL", fake.uri().toString(),
                    "MIRRORBALL_UPSTREAM_USERNAME", "carol", "MIRRORBALL_UPSTREAM_PASSWORD", "pw"));
            HttpResponse<byte[]> r = gateway.client().get("/v2/org/app/blobs/" + digest);
            assertEquals(200, r.statusCode());
            assertEquals(digest, Digest.ofBytes(r.body()));
            assertTrue(fake.lastHeaders("/v2/org/app/blobs/" + digest).get("authorization").startsWith("Basic "),
                    "the upstream got the credentials");
            assertEquals(1, cdn.count("/cdn/blob"));
            assertEquals(null, cdn.lastHeaders("/cdn/blob").get("authorization"), "the CDN never does");
        }
    }

    @Test
    void upstreamUnreachable_badGateway() throws Exception {
        fake.close();
        HttpResponse<byte[]> r = gateway.client().get("/v2/gone/manifests/v1");
        JsonNode error = RegistryClient.assertOciError(r, 502, "UNAVAILABLE");
        assertTrue(error.get("detail").asText().contains("upstream unreachable"), error.toString());
    }

    @Test
    void unknownName_negativeCache_secondRequestStaysLocal() {
        HttpResponse<byte[]> first = gateway.client().get("/v2/nobody/manifests/v1");
        RegistryClient.assertOciError(first, 404, "NAME_UNKNOWN");
        HttpResponse<byte[]> second = gateway.client().get("/v2/nobody/tags/list");
        RegistryClient.assertOciError(second, 404, "NAME_UNKNOWN");
        assertEquals(1, fake.count("/v2/nobody/manifests/v1") + fake.count("/v2/nobody/tags/list"));
    }
}
