package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.upstream.FakeUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    void manifest_upstream429WithKeptTag_staleServedAndRateLimitGauged() throws Exception {
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                + "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Digest.ofBytes(new byte[] {'{', '}'}) + "\",\"size\":2},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.ofBytes(manifest);
        AtomicBoolean limited = new AtomicBoolean();
        fake.on("/v2/busy/manifests/v1", (method, socket, out) -> {
            if (limited.get()) {
                Map<String, String> headers = Map.of("Retry-After", "17", "Content-Type", "application/json",
                        "ratelimit-limit", "100;w=21600", "ratelimit-remaining", "0;w=21600");
                byte[] body = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}"
                        .getBytes(StandardCharsets.UTF_8);
                if (method.equals("HEAD")) {
                    FakeUpstream.writeHead(out, 429, headers, body.length); // a HEAD answer has no body
                } else {
                    FakeUpstream.respond(out, 429, headers, body);
                }
                return;
            }
            Map<String, String> headers = Map.of("Content-Type", MediaTypes.OCI_MANIFEST,
                    "Docker-Content-Digest", digest.toString(),
                    "ratelimit-limit", "100;w=21600", "ratelimit-remaining", "76;w=21600");
            if (method.equals("HEAD")) {
                FakeUpstream.writeHead(out, 200, headers, manifest.length);
            } else {
                FakeUpstream.respond(out, 200, headers, manifest);
            }
        });
        fake.on("/v2/busy/manifests/v2", (method, socket, out) -> FakeUpstream.respond(out, 429,
                Map.of("Retry-After", "17", "Content-Type", "application/json"),
                "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}"
                        .getBytes(StandardCharsets.UTF_8)));
        RegistryClient.expect(gateway.client().get("/v2/busy/manifests/v1"), 200, "the first pull");
        String upstream = gateway.gateway().upstream().orElseThrow().name();
        assertEquals(76, rateLimitGauge(upstream, "remaining"));
        assertEquals(100, rateLimitGauge(upstream, "limit"));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (gateway.gateway().store().upstreamTags().read(upstream, RepositoryName.parse("busy"), "v1").isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "busy:v1 was not kept in the store within 30 s");
            Thread.sleep(50);
        }

        // a new gateway knows the tag, stale; the upstream rate-limits its revalidation
        gateway = gateway.restart();
        limited.set(true);
        HttpResponse<byte[]> stale = gateway.client().get("/v2/busy/manifests/v1");
        RegistryClient.expect(stale, 200, "the kept tag while rate limited");
        assertEquals(digest.toString(), stale.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertTrue(stale.headers().firstValue("Warning").orElse("").contains("Stale"));
        assertEquals(digest, Digest.ofBytes(stale.body()));
        assertEquals(0, rateLimitGauge(upstream, "remaining"), "the 429's headers count too");
        // a tag the gateway never saw: the 429 with the upstream's Retry-After
        HttpResponse<byte[]> unknown = gateway.client().get("/v2/busy/manifests/v2");
        RegistryClient.assertOciError(unknown, 429, "TOOMANYREQUESTS");
        assertEquals("17", unknown.headers().firstValue("Retry-After").orElse(null));
    }

    /** {@code mirrorball_upstream_ratelimit_<which>{upstream="<name>"}} from the gateway's /metrics. */
    private long rateLimitGauge(String upstream, String which) {
        PrometheusText metrics = PrometheusText.parse(new String(gateway.client().get("/metrics").body(),
                java.nio.charset.StandardCharsets.UTF_8));
        String name = "mirrorball_upstream_ratelimit_" + which;
        assertTrue(metrics.require(name, "gauge").samples().stream()
                .anyMatch(sample -> sample.labels().equals(Map.of("upstream", upstream))), name + " of " + upstream);
        return (long) metrics.value(name, Map.of("upstream", upstream));
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
        // the fetch runs on its own thread: it may find the wrong digest before the client's answer is
        // committed (a clean 502), or after (a 200 whose body ends short); never a whole wrong blob
        long got = drain(r);
        if (r.statusCode() == 200) {
            assertTrue(got < right.length, "the client never gets a whole wrong blob: got " + got);
        } else {
            assertEquals(502, r.statusCode());
        }
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

    // ---------------------------------------------------------------- every byte verified (issue 9.3)

    private void startWithoutMirror() throws Exception {
        gateway.close();
        gateway = TestGateway.start(tmp.resolve("gw-nomirror"), Map.of("MIRRORBALL_UPSTREAM_URL", fake.uri().toString(),
                "MIRRORBALL_UPSTREAM_MIRROR", "false"));
    }

    private void serveWrongBytes(String path, byte[] wrong) {
        fake.on(path, (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "application/octet-stream"), wrong));
    }

    /**
     * Serves {@code wrong} in two halves, the second only once {@code answered} (the client saw the status
     * line: its response is committed), so the digest check fails after the client had bytes. The upstream
     * fetch does not wait for the client, so without the hold it could fail first (a clean 502 then).
     */
    private void serveWrongBytesAfterAnswer(String path, byte[] wrong, CountDownLatch answered) {
        fake.on(path, (method, socket, out) -> {
            FakeUpstream.writeHead(out, 200, Map.of("Content-Type", "application/octet-stream"), wrong.length);
            out.write(wrong, 0, wrong.length / 2);
            out.flush();
            answered.await(30, TimeUnit.SECONDS);
            out.write(wrong, wrong.length / 2, wrong.length - wrong.length / 2);
            out.flush();
        });
    }

    @Test
    void blob_noMirrorWrongBytes_neverSentWholeWithDigest() throws Exception {
        startWithoutMirror();
        byte[] right = random(1024 * 1024, 11);
        Digest digest = Digest.ofBytes(right);
        serveWrongBytes("/v2/evil/blobs/" + digest, random(1024 * 1024, 12));
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", "/v2/evil/blobs/" + digest);
        assertEquals(200, r.statusCode());
        long got = drain(r);
        assertTrue(got < right.length, "aborted, never the whole wrong blob: got " + got);
    }

    @Test
    void blob_noMirrorSmallWrongBytes_badGateway() throws Exception {
        startWithoutMirror();
        byte[] right = random(1000, 13);
        Digest digest = Digest.ofBytes(right);
        serveWrongBytes("/v2/evil/blobs/" + digest, random(1000, 14));
        JsonNode error = RegistryClient.assertOciError(gateway.client().get("/v2/evil/blobs/" + digest), 502,
                "UNAVAILABLE");
        assertTrue(error.get("detail").asText().contains("do not match"), error.toString());
    }

    @Test
    void blob_noMirrorRightBytes_servedWholeAndRanges() throws Exception {
        startWithoutMirror();
        byte[] right = random(300 * 1024, 15);
        Digest digest = Digest.ofBytes(right);
        serveWrongBytes("/v2/good/blobs/" + digest, right);
        HttpResponse<byte[]> whole = gateway.client().get("/v2/good/blobs/" + digest);
        assertEquals(200, whole.statusCode());
        assertEquals(digest, Digest.ofBytes(whole.body()));
        HttpResponse<byte[]> range = gateway.client().get("/v2/good/blobs/" + digest, "Range", "bytes=100000-100009");
        assertEquals(206, range.statusCode());
        assertEquals("bytes 100000-100009/" + right.length, RegistryClient.header(range, "Content-Range"));
        assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(right, 100000, 100010), range.body()));
        assertEquals(null, fake.lastHeaders("/v2/good/blobs/" + digest).get("range"),
                "a range is cut from the verified whole blob, never asked of the upstream");
    }

    @Test
    void blob_rangeOfWrongBlobUpstreamIgnoresRange_neverServedUnchecked() {
        byte[] right = random(1024 * 1024, 16);
        Digest digest = Digest.ofBytes(right);
        serveWrongBytes("/v2/evil/blobs/" + digest, random(1024 * 1024, 17));
        // a small range: held back until the digest is checked, so the client gets a clean error
        HttpResponse<byte[]> small = gateway.client().get("/v2/evil/blobs/" + digest, "Range", "bytes=0-99");
        RegistryClient.assertOciError(small, 502, "UNAVAILABLE");
    }

    @Test
    void blob_largeRangeOfWrongBlob_abortedNeverCompleted() throws Exception {
        byte[] right = random(1024 * 1024, 18);
        Digest digest = Digest.ofBytes(right);
        CountDownLatch answered = new CountDownLatch(1);
        serveWrongBytesAfterAnswer("/v2/evil/blobs/" + digest, random(1024 * 1024, 19), answered);
        HttpResponse<InputStream> r = gateway.client().sendStreaming("GET", "/v2/evil/blobs/" + digest,
                "Range", "bytes=1000-999999");
        answered.countDown();
        assertEquals(206, r.statusCode());
        long got = drain(r);
        assertTrue(got < 999000, "aborted before the range was complete: got " + got);
    }

    @Test
    void blob_rangeOfRightBlob_servedAndMirroredWithOneFetch() throws Exception {
        byte[] right = random(400 * 1024, 20);
        Digest digest = Digest.ofBytes(right);
        serveWrongBytes("/v2/good/blobs/" + digest, right);
        HttpResponse<byte[]> range = gateway.client().get("/v2/good/blobs/" + digest, "Range", "bytes=-16");
        assertEquals(206, range.statusCode());
        assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(right, right.length - 16, right.length),
                range.body()));
        HttpResponse<byte[]> whole = gateway.client().get("/v2/good/blobs/" + digest);
        assertEquals(digest, Digest.ofBytes(whole.body()));
        assertEquals(1, fake.count("/v2/good/blobs/" + digest), "the range fetch mirrored the blob");
    }

    /** A GET on a raw socket with Connection: close: the status line, Content-Length, and the bytes before EOF. */
    private record RawAnswer(String statusLine, long contentLength, long bodyBytes) {
    }

    /** GETs {@code path} as above, counting {@code answered} down once the status line and headers are read. */
    private RawAnswer rawGet(String path, CountDownLatch answered) throws IOException {
        URI base = gateway.client().base();
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + base.getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
            String statusLine = line(in);
            long length = -1;
            String header;
            while (!(header = line(in)).isEmpty()) {
                if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Long.parseLong(header.substring(15).trim());
                }
            }
            answered.countDown();
            long body = 0;
            try {
                byte[] buffer = new byte[65536];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    body += n;
                }
            } catch (IOException reset) {
                // a reset is as good as a short body: the client cannot take it for complete
            }
            return new RawAnswer(statusLine, length, body);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Test
    void blob_wrongBytesOnConnectionClose_bodyEndsShortOfContentLength() throws Exception {
        for (boolean mirror : new boolean[] {false, true}) {
            if (!mirror) {
                startWithoutMirror();
            } else {
                gateway.close();
                gateway = TestGateway.start(tmp.resolve("gw-close"), Map.of("MIRRORBALL_UPSTREAM_URL",
                        fake.uri().toString()));
            }
            byte[] right = random(1024 * 1024, 21);
            Digest digest = Digest.ofBytes(right);
            CountDownLatch answered = new CountDownLatch(1);
            serveWrongBytesAfterAnswer("/v2/evil/blobs/" + digest, random(1024 * 1024, 22), answered);
            RawAnswer answer = rawGet("/v2/evil/blobs/" + digest, answered);
            assertTrue(answer.statusLine().startsWith("HTTP/1.1 200"), answer.toString());
            assertEquals(right.length, answer.contentLength(), "a Content-Length the client can hold us to");
            assertTrue(answer.bodyBytes() < right.length, "mirror " + mirror + ": " + answer);
        }
    }

    @Test
    void manifest_byDigestWrongBytes_badGateway() {
        byte[] right = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.ofBytes(right);
        fake.on("/v2/evil/manifests/" + digest, (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                "{\"schemaVersion\":3}".getBytes(StandardCharsets.UTF_8)));
        JsonNode error = RegistryClient.assertOciError(gateway.client().get("/v2/evil/manifests/" + digest), 502,
                "UNAVAILABLE");
        assertTrue(error.get("detail").asText().contains("do not match"), error.toString());
    }

    // ---------------------------------------------------------------- redirects (issue 9.6, 9.8)

    @ParameterizedTest
    @ValueSource(strings = {"http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/blob",
            "http://0.0.0.0/blob", "ftp://127.0.0.1/blob", "gopher://127.0.0.1:70/x", "http://[::1", ""})
    void blob_redirectToForbiddenTarget_badGatewayWithoutItsAddress(String location) {
        Digest digest = Digest.ofBytes(random(100, 23));
        fake.on("/v2/app/blobs/" + digest, (method, socket, out) -> FakeUpstream.respond(out, 307,
                location.isEmpty() ? Map.of() : Map.of("Location", location), new byte[0]));
        HttpResponse<byte[]> r = gateway.client().get("/v2/app/blobs/" + digest);
        JsonNode error = RegistryClient.assertOciError(r, 502, "UNAVAILABLE");
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertFalse(body.contains("169.254") || body.contains("10.1.2.3") || body.contains(fake.uri().getAuthority()),
                "no upstream or redirect address in " + body);
        assertTrue(error.get("detail").asText().startsWith("pull blob " + digest), error.toString());
    }

    @Test
    void blob_fileLocation_badGatewayNotNullPointer() {
        Digest digest = Digest.ofBytes(random(100, 24));
        fake.on("/v2/app/blobs/" + digest, (method, socket, out) -> FakeUpstream.respond(out, 302,
                Map.of("Location", "file:///etc/passwd"), new byte[0]));
        RegistryClient.assertOciError(gateway.client().get("/v2/app/blobs/" + digest), 502, "UNAVAILABLE");
        assertEquals(502, gateway.client().head("/v2/app/blobs/" + digest).statusCode());
    }

    @Test
    void blob_redirectTargetErrorPage_neverRelayed() throws Exception {
        Digest digest = Digest.ofBytes(random(100, 25));
        try (FakeUpstream cdn = FakeUpstream.start()) {
            cdn.on("/cdn/blob", (method, socket, out) -> FakeUpstream.respond(out, 403,
                    Map.of("Content-Type", "application/xml"),
                    "<Error><Code>AccessDenied</Code><Secret>internal-bucket</Secret></Error>"
                            .getBytes(StandardCharsets.UTF_8)));
            fake.on("/v2/app/blobs/" + digest, (method, socket, out) -> FakeUpstream.respond(out, 307,
                    Map.of("Location", cdn.uri() + "/cdn/blob"), new byte[0]));
            HttpResponse<byte[]> r = gateway.client().get("/v2/app/blobs/" + digest);
            RegistryClient.assertOciError(r, 502, "UNAVAILABLE");
            assertFalse(new String(r.body(), StandardCharsets.UTF_8).contains("internal-bucket"));
            assertEquals(1, cdn.count("/cdn/blob"));
        }
    }

    @Test
    void manifest_redirect_notFollowed() throws Exception {
        try (FakeUpstream elsewhere = FakeUpstream.start()) {
            elsewhere.on("/m", (method, socket, out) -> FakeUpstream.respond(out, 200,
                    Map.of("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                    "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8)));
            fake.on("/v2/app/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 302,
                    Map.of("Location", elsewhere.uri() + "/m", "Content-Type", "text/html"),
                    "<html>moved</html>".getBytes(StandardCharsets.UTF_8)));
            HttpResponse<byte[]> r = gateway.client().get("/v2/app/manifests/v1");
            RegistryClient.assertOciError(r, 502, "UNAVAILABLE");
            assertFalse(new String(r.body(), StandardCharsets.UTF_8).contains("moved"));
            assertEquals(0, elsewhere.count("/m"));
        }
    }

    // ---------------------------------------------------------------- Bearer challenges per scope (issue 9.7)

    private static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":"
            + "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
            + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + Digest.ofBytes(new byte[0])
            + "\",\"size\":0},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

    /** {@code /v2/<repo>/manifests/v1} wants the Bearer token "good" from {@code realm}. */
    private void bearerRepository(String repo, String realm) {
        String path = "/v2/" + repo + "/manifests/v1";
        fake.on(path, (method, socket, out) -> {
            if ("Bearer good".equals(fake.lastHeaders(path).get("authorization"))) {
                FakeUpstream.respond(out, 200, Map.of("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                        MANIFEST);
                return;
            }
            FakeUpstream.respond(out, 401, Map.of("Content-Type", "application/json", "WWW-Authenticate",
                    "Bearer realm=\"" + realm + "\",service=\"fake\",scope=\"repository:" + repo + ":pull\""),
                    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"x\"}]}".getBytes(StandardCharsets.UTF_8));
        });
    }

    @Test
    void bearer_badChallengesOfOneRepository_neverBreakOthers() {
        fake.on("/token-good", (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "application/json"),
                "{\"token\":\"good\",\"expires_in\":300}".getBytes(StandardCharsets.UTF_8)));
        fake.on("/token-garbage", (method, socket, out) -> FakeUpstream.respond(out, 200,
                Map.of("Content-Type", "text/html"), random(2 * 1024 * 1024, 26)));
        bearerRepository("good0", fake.uri() + "/token-good");
        bearerRepository("good1", fake.uri() + "/token-good");
        bearerRepository("file", "file:///etc/passwd");
        bearerRepository("garbage", fake.uri() + "/token-garbage");
        for (int round = 0; round < 2; round++) {
            HttpResponse<byte[]> file = gateway.client().get("/v2/file/manifests/v1");
            JsonNode error = RegistryClient.assertOciError(file, 502, "UNAVAILABLE");
            assertFalse(error.toString().contains("/etc/passwd"), error.toString());
            RegistryClient.assertOciError(gateway.client().get("/v2/garbage/manifests/v1"), 502, "UNAVAILABLE");
            // a repository never pulled before, after the bad challenges: it works
            HttpResponse<byte[]> good = gateway.client().get("/v2/good" + round + "/manifests/v1");
            assertEquals(200, good.statusCode(), "round " + round + ": " + RegistryClient.describe(good));
            assertEquals(Digest.ofBytes(MANIFEST), Digest.ofBytes(good.body()));
        }
        assertEquals(2, fake.count("/token-garbage"), "a failed token is not remembered: asked again");
    }
}
