package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.upstream.FakeUpstream;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 14: /metrics in the Prometheus format, /livez and /readyz, on a real gateway and real nodes. */
final class ObservabilityTest {
    private static final String REQUESTS = "mirrorball_http_requests_seconds_count";

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private TestGateway cloning;
    private DockerRegistry registry;
    private FakeUpstream fake;
    private KuboNode ownNode;

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (cloning != null) {
            cloning.close();
        }
        if (fake != null) {
            fake.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (ownNode != null) {
            ownNode.close();
        }
    }

    private PrometheusText scrape() {
        return scrape(gateway);
    }

    private static PrometheusText scrape(TestGateway gateway) {
        HttpResponse<byte[]> response = gateway.client().get("/metrics");
        RegistryClient.expect(response, 200, "scrape /metrics");
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                response.headers().toString());
        return PrometheusText.parse(new String(response.body(), StandardCharsets.UTF_8));
    }

    private static double delta(PrometheusText before, PrometheusText after, String name, Map<String, String> labels) {
        return after.value(name, labels) - before.value(name, labels);
    }

    @Test
    void metrics_afterPushAndPulls_familiesCountWhatHappened() throws Exception {
        registry = DockerRegistry.start(tmp.resolve("registry"));
        RegistryClient upstreamClient = new RegistryClient(registry.uri());
        TestImages.Image upstreamImage = TestImages.ociImage(1);
        for (TestImages.Blob blob : upstreamImage.blobs()) {
            upstreamClient.pushBlobInSession("up/app", blob.content()); // distribution has no monolithic POST
        }
        upstreamClient.pushManifest("up/app", "v1", upstreamImage.manifest(), upstreamImage.mediaType());
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", registry.uri().toString()));
        String upstream = gateway.gateway().upstream().orElseThrow().name();

        PrometheusText start = scrape();
        gateway.client().pushImage("app", "v1", 2);
        PrometheusText pushed = scrape();
        assertEquals(1, delta(start, pushed, REQUESTS, Map.of("route", "manifest", "status", "2xx")), "the PUT");
        assertEquals(3, delta(start, pushed, REQUESTS, Map.of("route", "upload_start", "status", "2xx")),
                "config and two layers");
        pushed.require("mirrorball_publish_seconds", "summary");
        assertEquals(1, pushed.value("mirrorball_publish_seconds_count", Map.of()), "one image published");

        for (int i = 0; i < 3; i++) {
            RegistryClient.expect(gateway.client().get("/v2/app/manifests/v1"), 200, "pull app:v1");
        }
        RegistryClient.expect(gateway.client().get("/v2/app/manifests/nope"), 404, "pull a missing tag");
        gateway.client().startUpload("app");
        PrometheusText pulled = scrape();
        assertEquals(3, delta(pushed, pulled, REQUESTS, Map.of("route", "manifest", "status", "2xx")));
        assertEquals(1, delta(pushed, pulled, REQUESTS, Map.of("route", "manifest", "status", "4xx")));
        assertEquals(1, delta(pushed, pulled, "mirrorball_uploads_open", Map.of()), "the session just started");
        assertTrue(pulled.value("mirrorball_http_requests_seconds",
                Map.of("route", "manifest", "status", "2xx", "quantile", "0.5")) > 0, "a latency quantile");

        // through the upstream: the first pull fetches the manifest, the second is answered from memory
        Map<String, String> ofUpstream = Map.of("upstream", upstream);
        RegistryClient.expect(gateway.client().get("/v2/up/app/manifests/v1"), 200, "pull up/app:v1");
        RegistryClient.expect(gateway.client().get("/v2/up/app/manifests/v1"), 200, "pull up/app:v1 again");
        PrometheusText through = scrape();
        assertEquals(1, delta(pulled, through, "mirrorball_upstream_misses_total", ofUpstream));
        assertEquals(1, delta(pulled, through, "mirrorball_upstream_hits_total", ofUpstream));
        assertEquals(0, through.value("mirrorball_upstream_errors_total", ofUpstream));
        assertEquals(1, through.value("mirrorball_upstream_up", ofUpstream));
        through.require("mirrorball_upstream_hits", "counter");
        // the manifest goes into the store in the background; the cache ledger then counts its bytes
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (scrape().value("mirrorball_cache_bytes", Map.of()) < upstreamImage.manifest().length) {
            assertTrue(System.nanoTime() < deadline, "the mirrored manifest was not counted within 30 s");
            Thread.sleep(50);
        }

        through.require("jvm_memory_used_bytes", "gauge");
        assertTrue(through.value("jvm_memory_used_bytes", Map.of("area", "heap")) > 0, "heap in use");
        if (!gateway.env().get("MIRRORBALL_STORAGE_IPFS_NODE").equals("embedded")) {
            PrometheusText.Family rpc = through.require("mirrorball_ipfs_rpc_seconds", "summary");
            assertTrue(rpc.samples().stream().anyMatch(s -> s.labels().equals(Map.of("op", "files/stat"))
                    && s.name().endsWith("_count") && s.value() > 0), "Kubo RPCs by command");
            assertEquals(0, through.value("mirrorball_ipfs_rpc_errors_total", Map.of()));
        }
    }

    @Test
    void metrics_storeBytes_countsEveryPushedBlobAndManifest() throws Exception {
        gateway = TestGateway.start(tmp.resolve("gw"));
        TestImages.Image image = TestImages.ociImage(4);
        long pushed = image.manifest().length;
        for (TestImages.Blob blob : image.blobs()) {
            gateway.client().pushBlob("size/app", blob.content());
            pushed += blob.content().length;
        }
        RegistryClient.expect(gateway.client().put("/v2/size/app/manifests/v1", image.manifest(), image.mediaType()),
                201, "push size/app:v1");

        PrometheusText scraped = scrape();

        scraped.require("mirrorball_store_bytes", "gauge");
        double stored = scraped.value("mirrorball_store_bytes", Map.of());
        assertTrue(stored >= pushed && stored < pushed + 64 * 1024, "store " + stored + " bytes, pushed " + pushed);
    }

    @Test
    void metrics_openMetricsAsked_openMetricsAnswered() throws Exception {
        gateway = TestGateway.start(tmp.resolve("gw"));
        RegistryClient.expect(gateway.client().get("/v2/"), 200, "version check");
        HttpResponse<byte[]> response = gateway.client().get("/metrics", "Accept",
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
        RegistryClient.expect(response, 200, "scrape /metrics as OpenMetrics");
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                response.headers().toString());
        String body = new String(response.body(), StandardCharsets.UTF_8);
        assertTrue(body.endsWith("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
        PrometheusText.parse(body).require("mirrorball_http_requests_seconds", "summary");
    }

    @Test
    void readyz_nodeUpUpstreamDown_200WithTheUpstreamFailing() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL",
                "http://127.0.0.1:" + closedPort));
        String upstream = gateway.gateway().upstream().orElseThrow().name();
        JsonNode before = ready(200);
        assertEquals("ok", before.get("ipfs").get("status").asText());
        assertEquals("unknown", before.get("upstreams").get(0).get("status").asText(), before.toString());

        RegistryClient.assertOciError(gateway.client().get("/v2/gone/manifests/v1"), 502, null);
        JsonNode after = ready(200);
        assertEquals("ok", after.get("status").asText(), "an upstream down does not make the gateway unready");
        JsonNode state = after.get("upstreams").get(0);
        assertEquals(upstream, state.get("name").asText());
        assertEquals("failing", state.get("status").asText(), after.toString());
        assertTrue(state.has("lastContact"), after.toString());
        assertTrue(!after.toString().contains("http:"), "no upstream URL in the answer");
        assertEquals(0, scrape().value("mirrorball_upstream_up", Map.of("upstream", upstream)));
        assertEquals(1, scrape().value("mirrorball_upstream_errors_total", Map.of("upstream", upstream)));
    }

    @Test
    void readyz_nodeStopped_503AndLivezStill200() throws Exception {
        ownNode = KuboNode.start(tmp.resolve("kubo"));
        gateway = TestGateway.start(ownNode.apiUrl().toString(), "/t-" + UUID.randomUUID(), tmp.resolve("gw"),
                Map.of());
        assertEquals("ok", ready(200).get("status").asText());
        ownNode.close();
        ownNode = null;
        JsonNode down = ready(503);
        assertEquals("unavailable", down.get("status").asText());
        assertEquals("failing", down.get("ipfs").get("status").asText());
        assertTrue(down.get("ipfs").get("detail").asText().contains("node"), down.toString());
        assertTrue(!down.toString().contains(String.valueOf(gateway.env().get("MIRRORBALL_STORAGE_IPFS_NODE"))),
                "no node URL in the answer");
        HttpResponse<byte[]> live = gateway.client().get("/livez");
        RegistryClient.expect(live, 200, "/livez with the node down");
        assertEquals("{\"status\":\"ok\"}", new String(live.body(), StandardCharsets.UTF_8));
        assertTrue(scrape().value("mirrorball_ipfs_rpc_errors_total", Map.of()) >= 1, "the failed probe counts");
    }

    @Test
    void healthAndMetrics_htpasswdWithoutAnonymousPull_answerWithoutCredentials() throws Exception {
        Path htpasswd = HtpasswdFile.write(tmp.resolve("htpasswd"), "alice", "secret");
        Map<String, String> env = new HashMap<>();
        env.put("MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString());
        env.put("MIRRORBALL_AUTH_ANONYMOUS_PULL", "false");
        gateway = TestGateway.start(tmp.resolve("gw"), env);
        RegistryClient.assertOciError(gateway.client().get("/v2/"), 401, "UNAUTHORIZED");
        RegistryClient.expect(gateway.client().get("/livez"), 200, "/livez without credentials");
        ready(200);
        scrape().require("mirrorball_http_requests_seconds", "summary");
    }

    private JsonNode ready(int status) {
        HttpResponse<byte[]> response = gateway.client().get("/readyz");
        RegistryClient.expect(response, status, "/readyz");
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return RegistryClient.json(response);
    }

    @Test
    void metrics_pullByCidElsewhere_cloningGatewayCountsTheClone() throws Exception {
        String kubo = KuboNode.shared().apiUrl().toString();
        gateway = TestGateway.start(kubo, "/obs-" + UUID.randomUUID(), tmp.resolve("gw"), Map.of());
        cloning = TestGateway.start(kubo, "/obs-" + UUID.randomUUID(), tmp.resolve("clone"), Map.of());
        TestImages.Image image = TestImages.ociImage(1);
        for (TestImages.Blob blob : image.blobs()) {
            gateway.client().pushBlob("obs/app", blob.content());
        }
        HttpResponse<byte[]> put = gateway.client().put("/v2/obs/app/manifests/v1", image.manifest(),
                image.mediaType());
        RegistryClient.expect(put, 201, "push");
        String cid = put.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
        double before = scrape(cloning).value("mirrorball_clone_seconds_count", Map.of());

        RegistryClient.expect(cloning.client().get("/v2/" + cid + "/manifests/latest"), 200, "pull by CID");

        PrometheusText after = scrape(cloning);
        after.require("mirrorball_clone_seconds", "summary");
        assertEquals(0, before, "nothing cloned before the pull");
        assertTrue(after.value("mirrorball_clone_seconds_count", Map.of()) >= 1, "the clone is counted");
        assertEquals(0, scrape().value("mirrorball_clone_seconds_count", Map.of()), "the publisher cloned nothing");
    }

    @Test
    void metrics_upstreamStatesRateLimit_gaugesHoldTheLastValues() throws Exception {
        fake = FakeUpstream.start();
        for (int remaining : new int[] {41, 40}) {
            byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                    + "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                    + Digest.ofBytes(new byte[] {'{', '}'}) + "\",\"size\":2},\"layers\":[],\"annotations\":"
                    + "{\"n\":\"" + remaining + "\"}}").getBytes(StandardCharsets.UTF_8);
            Map<String, String> headers = Map.of("Content-Type", MediaTypes.OCI_MANIFEST,
                    "Docker-Content-Digest", Digest.ofBytes(manifest).toString(),
                    "ratelimit-limit", "50;w=21600", "ratelimit-remaining", remaining + ";w=21600");
            fake.on("/v2/limited/manifests/v" + remaining, (method, socket, out) -> {
                if (method.equals("HEAD")) {
                    FakeUpstream.writeHead(out, 200, headers, manifest.length);
                } else {
                    FakeUpstream.respond(out, 200, headers, manifest);
                }
            });
        }
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of("MIRRORBALL_UPSTREAM_URL", fake.uri().toString()));
        Map<String, String> ofUpstream = Map.of("upstream", gateway.gateway().upstream().orElseThrow().name());

        RegistryClient.expect(gateway.client().get("/v2/limited/manifests/v41"), 200, "the first pull");
        PrometheusText first = scrape();
        RegistryClient.expect(gateway.client().get("/v2/limited/manifests/v40"), 200, "the second pull");
        PrometheusText second = scrape();

        first.require("mirrorball_upstream_ratelimit_limit", "gauge");
        first.require("mirrorball_upstream_ratelimit_remaining", "gauge");
        assertEquals(50, first.value("mirrorball_upstream_ratelimit_limit", ofUpstream));
        assertEquals(41, first.value("mirrorball_upstream_ratelimit_remaining", ofUpstream));
        assertEquals(50, second.value("mirrorball_upstream_ratelimit_limit", ofUpstream));
        assertEquals(40, second.value("mirrorball_upstream_ratelimit_remaining", ofUpstream), "the last stated");
    }
}
