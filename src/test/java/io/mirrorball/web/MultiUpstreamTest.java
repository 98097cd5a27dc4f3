package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.Containerd;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Podman;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.TestTokenIssuer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One gateway in front of three real docker-registry upstreams with different auth: the default upstream
 * (no auth), {@code ghcr.io} (htpasswd Basic) and {@code quay.io} (token auth from {@link TestTokenIssuer},
 * and {@code publish} on).
 * Each holds a different image under the same name {@code org/app:1}; requests pick the upstream by a
 * name prefix, by containerd's {@code ?ns=}, or get the default.
 */
final class MultiUpstreamTest {
    @TempDir
    Path tmp;
    private DockerRegistry plain;
    private DockerRegistry basic;
    private TestTokenIssuer issuer;
    private DockerRegistry token;
    private TestGateway gateway;
    private TestGateway pagingUpstream;
    private OciLayoutBuilder.Image plainApp;
    private OciLayoutBuilder.Image ghcrApp;
    private OciLayoutBuilder.Image ghcrApp2;
    private OciLayoutBuilder.Image quayApp;

    @BeforeEach
    void setUp() throws Exception {
        plain = DockerRegistry.start(tmp.resolve("plain"));
        basic = DockerRegistry.builder(tmp.resolve("basic")).htpasswd("alice", "secret").start();
        issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "bob", "hunter2");
        DockerRegistry.Builder builder = DockerRegistry.builder(tmp.resolve("token"));
        issuer.registryEnv().forEach(builder::env);
        token = builder.start();

        plainApp = OciLayoutBuilder.at(tmp.resolve("layout-plain")).seed(31).layers(2, 256 * 1024, true).build("1");
        ghcrApp = OciLayoutBuilder.at(tmp.resolve("layout-ghcr")).seed(32).layers(2, 512 * 1024, true).build("1");
        ghcrApp2 = OciLayoutBuilder.at(tmp.resolve("layout-ghcr2")).seed(33).layers(1, 64 * 1024, true).build("2");
        quayApp = OciLayoutBuilder.at(tmp.resolve("layout-quay")).seed(34).layers(1, 128 * 1024, true).build("1");
        Skopeo.in(tmp.resolve("push-plain")).copy(plainApp.skopeoRef(), "docker://" + plain.hostPort() + "/org/app:1");
        Skopeo toBasic = Skopeo.in(tmp.resolve("push-basic")).login(basic.hostPort(), "alice", "secret");
        toBasic.copy(ghcrApp.skopeoRef(), "docker://" + basic.hostPort() + "/org/app:1");
        toBasic.copy(ghcrApp2.skopeoRef(), "docker://" + basic.hostPort() + "/org/app:2");
        Skopeo.in(tmp.resolve("push-token")).login(token.hostPort(), "bob", "hunter2")
                .copy(quayApp.skopeoRef(), "docker://" + token.hostPort() + "/org/app:1");
        assertEquals(3, Set.of(plainApp.manifestDigest(), ghcrApp.manifestDigest(), quayApp.manifestDigest()).size(),
                "three different images under one name");

        gateway = TestGateway.start(tmp.resolve("gw"), Map.ofEntries(
                Map.entry("MIRRORBALL_UPSTREAM_URL", plain.uri().toString()),
                Map.entry("MIRRORBALL_UPSTREAMS_0_NAME", "ghcr.io"),
                Map.entry("MIRRORBALL_UPSTREAMS_0_URL", basic.uri().toString()),
                Map.entry("MIRRORBALL_UPSTREAMS_0_USERNAME", "alice"),
                Map.entry("MIRRORBALL_UPSTREAMS_0_PASSWORD", "secret"),
                Map.entry("MIRRORBALL_UPSTREAMS_1_NAME", "quay.io"),
                Map.entry("MIRRORBALL_UPSTREAMS_1_URL", token.uri().toString()),
                Map.entry("MIRRORBALL_UPSTREAMS_1_USERNAME", "bob"),
                Map.entry("MIRRORBALL_UPSTREAMS_1_PASSWORD", "hunter2"),
                Map.entry("MIRRORBALL_UPSTREAMS_1_PUBLISH", "true")));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (TestGateway g : new TestGateway[] {gateway, pagingUpstream}) {
            if (g != null) {
                g.close();
            }
        }
        for (AutoCloseable c : new AutoCloseable[] {token, issuer, basic, plain}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private String gw() {
        return gateway.client().base().getAuthority();
    }

    @Test
    void pull_byNamePrefix_eachUpstreamItsOwnImageByteIdentical() throws Exception {
        Skopeo puller = Skopeo.in(tmp.resolve("pull"));
        Map<String, OciLayoutBuilder.Image> expected = Map.of(
                "ghcr.io/org/app", ghcrApp, "quay.io/org/app", quayApp, "org/app", plainApp);
        for (Map.Entry<String, OciLayoutBuilder.Image> e : expected.entrySet()) {
            String ref = "docker://" + gw() + "/" + e.getKey() + ":1";
            Path out = tmp.resolve("out-" + e.getKey().replace('/', '-'));
            puller.copy(ref, "oci:" + out + ":1");
            assertEquals(e.getValue().manifestDigest(), Digest.ofBytes(puller.inspectRaw(ref)
                    .getBytes(StandardCharsets.UTF_8)), ref);
            for (Digest layer : e.getValue().layerDigests()) {
                assertEquals(layer.hex(), UpstreamPullThroughTest.sha256(out.resolve("blobs/sha256/" + layer.hex())),
                        "layer of " + ref);
            }
        }
        assertTrue(issuer.issued() >= 2, "quay.io's token service was asked (push and pull)");
    }

    @Test
    void manifest_byNs_sameNameResolvesToTheNamedUpstream() {
        Map<String, OciLayoutBuilder.Image> expected = Map.of(
                "ghcr.io", ghcrApp, "quay.io", quayApp, plain.hostPort(), plainApp);
        for (Map.Entry<String, OciLayoutBuilder.Image> e : expected.entrySet()) {
            HttpResponse<byte[]> r = gateway.client().get("/v2/org/app/manifests/1?ns=" + e.getKey(),
                    "Accept", MediaTypes.ACCEPT_ALL);
            RegistryClient.expect(r, 200, "manifest with ns=" + e.getKey());
            assertEquals(e.getValue().manifestDigest(), Digest.ofBytes(r.body()), "ns=" + e.getKey());
            assertEquals(e.getValue().manifestDigest().toString(),
                    RegistryClient.header(r, "Docker-Content-Digest"));
        }
        // a blob goes to the upstream ns names
        Digest layer = ghcrApp.layerDigests().get(0);
        HttpResponse<byte[]> blob = gateway.client().get("/v2/org/app/blobs/" + layer + "?ns=ghcr.io");
        RegistryClient.expect(blob, 200, "blob with ns=ghcr.io");
        assertEquals(layer.toString(), RegistryClient.digestOf(blob.body()));
        // the prefix and ns agree
        HttpResponse<byte[]> prefixed = gateway.client().get("/v2/quay.io/org/app/manifests/1",
                "Accept", MediaTypes.ACCEPT_ALL);
        RegistryClient.expect(prefixed, 200, "manifest by prefix");
        assertNotEquals(plainApp.manifestDigest(), Digest.ofBytes(prefixed.body()));
        assertEquals(quayApp.manifestDigest(), Digest.ofBytes(prefixed.body()));
    }

    @Test
    void nsOfNoUpstream_nameUnknownNeverAnotherRegistry() {
        for (String ns : List.of("docker.io", "index.docker.io", "gcr.io", "ghcr.io:5000")) {
            HttpResponse<byte[]> r = gateway.client().get("/v2/org/app/manifests/1?ns=" + ns,
                    "Accept", MediaTypes.ACCEPT_ALL);
            JsonNode error = RegistryClient.assertOciError(r, 404, "NAME_UNKNOWN");
            String canonical = ns.equals("index.docker.io") ? "docker.io" : ns;
            assertTrue(error.get("detail").asText().contains("no upstream is configured for the registry "
                    + canonical), error.toString());
        }
        RegistryClient.assertOciError(gateway.client().get("/v2/org/app/tags/list?ns=gcr.io"), 404, "NAME_UNKNOWN");
        RegistryClient.assertOciError(gateway.client().get("/v2/org/app/manifests/1?ns=not%20a%20host"), 400,
                "NAME_INVALID");
    }

    @Test
    void tagsList_throughPrefix_namesTheRepositoryAsAsked() throws Exception {
        JsonNode tags = RegistryClient.json(gateway.client().get("/v2/ghcr.io/org/app/tags/list"));
        assertEquals("ghcr.io/org/app", tags.get("name").asText());
        assertEquals(Set.of("1", "2"), Set.of(tags.get("tags").get(0).asText(), tags.get("tags").get(1).asText()));
        assertEquals(2, tags.get("tags").size());
        JsonNode listed = RegistryClient.JSON.readTree(
                Skopeo.in(tmp.resolve("list")).listTags("docker://" + gw() + "/ghcr.io/org/app"));
        assertEquals(2, listed.get("Tags").size(), listed.toString());
        assertEquals(Set.of("1", "2"), Set.of(listed.get("Tags").get(0).asText(), listed.get("Tags").get(1).asText()));
        JsonNode byNs = RegistryClient.json(gateway.client().get("/v2/org/app/tags/list?ns=ghcr.io"));
        assertEquals("org/app", byNs.get("name").asText());
        assertEquals(2, byNs.get("tags").size());
        JsonNode plainTags = RegistryClient.json(gateway.client().get("/v2/org/app/tags/list"));
        assertEquals(1, plainTags.get("tags").size(), plainTags.toString());
    }

    /** docker-registry 2.8 does not page tags/list; a mirrorball holding the image locally does (n, Link). */
    @Test
    void tagsList_pagedThroughPrefix_linkNamesTheRepositoryAsAsked() throws Exception {
        pagingUpstream = TestGateway.start(tmp.resolve("paging"));
        Skopeo pusher = Skopeo.in(tmp.resolve("push-paging"));
        for (String tag : List.of("1", "2", "3")) {
            pusher.copy(ghcrApp.skopeoRef(), "docker://" + pagingUpstream.uri().getAuthority() + "/org/app:" + tag);
        }
        gateway.close();
        gateway = TestGateway.start(tmp.resolve("gw-paging"), Map.of(
                "MIRRORBALL_UPSTREAMS_0_NAME", "registry.test",
                "MIRRORBALL_UPSTREAMS_0_URL", pagingUpstream.uri().toString()));

        HttpResponse<byte[]> first = gateway.client().get("/v2/registry.test/org/app/tags/list?n=2");
        JsonNode page = RegistryClient.json(first);
        assertEquals("registry.test/org/app", page.get("name").asText());
        assertEquals("[\"1\",\"2\"]", page.get("tags").toString());
        String link = RegistryClient.header(first, "Link");
        assertEquals("</v2/registry.test/org/app/tags/list?n=2&last=2>; rel=\"next\"", link);
        JsonNode second = RegistryClient.json(gateway.client().get("/v2/registry.test/org/app/tags/list?n=2&last=2"));
        assertEquals("[\"3\"]", second.get("tags").toString());
        // the default upstream is gone, so names without prefix or ns are unknown here
        RegistryClient.assertOciError(gateway.client().get("/v2/org/app/tags/list"), 404, "NAME_UNKNOWN");
    }

    /** containerd's mirror sends ?ns=, podman's mirror with a path sends the prefix: each gets its registry's image. */
    @Test
    void clients_containerdByNsPodmanByPrefix_eachGetsItsRegistrysImage() throws Exception {
        Containerd.requireBinaries();
        Podman.requireBinary();
        try (Containerd containerd = Containerd.start(tmp.resolve("containerd"));
             Podman podman = Podman.in(tmp.resolve("podman")).mirror("ghcr.io", gw() + "/ghcr.io")) {
            Path hosts = tmp.resolve("hosts");
            Containerd.writeHostsToml(hosts, "quay.io", gateway.uri());
            Containerd.writeHostsToml(hosts, "ghcr.io", gateway.uri());
            containerd.pull("quay.io/org/app:1", hosts);
            assertEquals(quayApp.manifestDigest(), containerd.imageDigest("quay.io/org/app:1"));
            containerd.pull("ghcr.io/org/app:1", hosts);
            assertEquals(ghcrApp.manifestDigest(), containerd.imageDigest("ghcr.io/org/app:1"));
            podman.pull("ghcr.io/org/app:1");
            assertEquals(ghcrApp.manifestDigest(), podman.imageDigest("ghcr.io/org/app:1"));
            assertEquals(ghcrApp.config().digest().hex(), podman.imageId("ghcr.io/org/app:1"));
        }
    }

    @Test
    void publish_followsTheChosenUpstreamsSwitch() throws Exception {
        Skopeo puller = Skopeo.in(tmp.resolve("pull"));
        puller.copy("docker://" + gw() + "/ghcr.io/org/app:1", "oci:" + tmp.resolve("out-ghcr") + ":1");
        puller.copy("docker://" + gw() + "/quay.io/org/app:1", "oci:" + tmp.resolve("out-quay") + ":1");
        Optional<String> quayCid = Optional.empty();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (quayCid.isEmpty() && System.nanoTime() < deadline) {
            quayCid = ipfsPath("/v2/quay.io/org/app/manifests/1");
            if (quayCid.isEmpty()) {
                Thread.sleep(200);
            }
        }
        assertTrue(quayCid.isPresent() && quayCid.get().startsWith("/ipfs/bafy"),
                "quay.io has publish on: its image is published once mirrored, " + quayCid);
        List<Digest> ghcrBlobs = new java.util.ArrayList<>(ghcrApp.layerDigests());
        ghcrBlobs.add(ghcrApp.config().digest());
        awaitMirrored(ghcrBlobs);
        assertEquals(Optional.empty(), ipfsPath("/v2/ghcr.io/org/app/manifests/1"),
                "ghcr.io has publish off: no X-Ipfs-Path although all of its image is in IPFS");
    }

    private Optional<String> ipfsPath(String manifestPath) {
        HttpResponse<byte[]> head = gateway.client().head(manifestPath, "Accept", MediaTypes.ACCEPT_ALL);
        RegistryClient.expect(head, 200, "HEAD " + manifestPath);
        return head.headers().firstValue("X-Ipfs-Path");
    }

    /** Waits until the gateway's store holds these blobs (a second store on the same node and MFS root). */
    private void awaitMirrored(List<Digest> digests) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        try (var node = io.mirrorball.ipfs.kubo.KuboRpcNode.connect(io.mirrorball.testing.KuboNode.shared().apiUrl(),
                Duration.ofSeconds(3), Duration.ofSeconds(30));
             var store = io.mirrorball.store.RegistryStore.open(node, gateway.mfsRoot(), tmp.resolve("probe-uploads"),
                     Duration.ofHours(1), java.time.Clock.systemUTC())) {
            for (Digest digest : digests) {
                while (store.blobs().stat(digest).isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError(digest + " was not mirrored into IPFS within 30 s");
                    }
                    Thread.sleep(100);
                }
            }
        }
    }
}
