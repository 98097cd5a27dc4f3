package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.AccessLog;
import io.mirrorball.testing.CommandResult;
import io.mirrorball.testing.Containerd;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Podman;
import io.mirrorball.testing.RecordingProxy;
import io.mirrorball.testing.Skopeo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients of the pull-through mirror: containerd ({@code ctr images pull --hosts-dir} with a
 * {@code hosts.toml} naming the gateway as mirror) and podman (a {@code registries.conf} mirror entry)
 * pull an image of a registry whose name does not resolve ({@code mirror-test.invalid:5000}), so only
 * the mirror can answer; the gateway fetches it from its default upstream, a docker-registry. The
 * recording proxy tests pin down what each client sends to a mirror, which the routing of several
 * upstreams relies on: containerd's {@code ?ns=<registry host>}, podman's mirror path prefix.
 */
final class PullThroughClientsTest {
    private static final String REGISTRY = "mirror-test.invalid:5000";
    private static final String REF = REGISTRY + "/team/app:1";

    @TempDir
    Path tmp;
    private DockerRegistry upstream;
    private TestGateway gateway;
    private OciLayoutBuilder.Image image;
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private int upstreamLinesBefore;

    @BeforeEach
    void setUp() throws Exception {
        // fail, never skip, on a machine without the clients
        Containerd.requireBinaries();
        Podman.requireBinary();
        upstream = DockerRegistry.start(tmp.resolve("upstream"));
        image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(31).layers(3, 3 * 1024 * 1024, true).build("1");
        Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + upstream.hostPort() + "/team/app:1");
        gateway = TestGateway.start(tmp.resolve("gw"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", upstream.uri().toString(),
                "MIRRORBALL_UPSTREAM_TAG_TTL", "5m"));
        upstreamLinesBefore = upstreamLines().size();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        closeLater.add(resource);
        return resource;
    }

    @Test
    void containerdPull_hostsTomlNamesGateway_storesUpstreamDigests() throws Exception {
        Containerd containerd = closeLater(Containerd.start(tmp.resolve("containerd")));
        Path hosts = Containerd.writeHostsToml(tmp.resolve("hosts"), REGISTRY, gateway.uri());

        CommandResult pull = containerd.pull(REF, hosts);
        System.out.printf("ctr pull through the gateway (%s snapshotter): %d ms%n", containerd.snapshotter(),
                pull.took().toMillis());

        assertEquals(image.manifestDigest(), containerd.imageDigest(REF), "manifest digest containerd stored");
        assertEquals(imageBlobs(), containerd.contentDigests(), "blobs in containerd's content store");
        assertPulledThroughGateway();
    }

    @Test
    void podmanPull_registriesConfMirror_sameImageIdAndDigestAsUpstream() throws Exception {
        Podman podman = closeLater(Podman.in(tmp.resolve("podman")).mirror(REGISTRY, gateway.uri().getAuthority()));

        CommandResult pull = podman.pull(REF);
        System.out.printf("podman pull through the gateway (%s): %d ms%n", Podman.STORAGE_DRIVER,
                pull.took().toMillis());

        assertEquals(image.manifestDigest(), podman.imageDigest(REF), "manifest digest podman pulled");
        assertEquals(image.config().digest().hex(), podman.imageId(REF), "image ID is the config digest");
        assertPulledThroughGateway();
    }

    @Test
    void containerdMirrorRequests_carryNsOfTheRegistryHost() throws Exception {
        Containerd containerd = closeLater(Containerd.start(tmp.resolve("containerd")));
        RecordingProxy recorder = closeLater(RecordingProxy.start(gateway.uri()));
        Path hosts = Containerd.writeHostsToml(tmp.resolve("hosts"), REGISTRY, recorder.uri());

        containerd.pull(REF, hosts);

        List<RecordingProxy.Request> requests = recorder.requests();
        assertFalse(requests.isEmpty(), "containerd went through the mirror");
        for (RecordingProxy.Request request : requests) {
            assertEquals("ns=mirror-test.invalid%3A5000", request.rawQuery(), request.toString());
            assertTrue(request.path().startsWith("/v2/team/app/"), "plain repository name: " + request);
        }
        assertTrue(requests.contains(request("HEAD", "/v2/team/app/manifests/1", requests)), "resolve by HEAD");
        for (Digest layer : image.layerDigests()) {
            assertTrue(requests.contains(request("GET", "/v2/team/app/blobs/" + layer, requests)), "GET " + layer);
        }
        assertEquals(image.manifestDigest(), containerd.imageDigest(REF));
    }

    @Test
    void podmanMirrorWithPath_sendsPathBeforeTheName() throws Exception {
        RecordingProxy recorder = closeLater(RecordingProxy.start(gateway.uri()));
        Podman podman = closeLater(Podman.in(tmp.resolve("podman")).mirror(REGISTRY, recorder.hostPort() + "/ghcr.io"));

        // whether this pull succeeds depends on the gateway's routing of prefixed names: only the requests count here
        podman.tryPull(REF);

        List<String> lines = recorder.requests().stream().map(r -> r.method() + " " + r.rawPathAndQuery()).toList();
        assertTrue(lines.contains("GET /v2/"), "ping at the root, not under the path: " + lines);
        assertTrue(lines.contains("GET /v2/ghcr.io/team/app/manifests/1"), "name prefixed by the mirror's path: " + lines);
    }

    /** The request of {@code requests} with this method and path (any query), or a placeholder. */
    private static RecordingProxy.Request request(String method, String path, List<RecordingProxy.Request> requests) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().equals(path)).findFirst()
                .orElse(new RecordingProxy.Request(method, path + " (not sent)", null));
    }

    private Set<Digest> imageBlobs() {
        Set<Digest> blobs = new TreeSet<>(image.layerDigests());
        blobs.add(image.manifestDigest());
        blobs.add(image.config().digest());
        return blobs;
    }

    /**
     * The upstream served every layer after the setup's push, and only to the gateway: the client
     * could not reach it (its registry name does not resolve), and no request came with a client's agent.
     */
    private void assertPulledThroughGateway() throws Exception {
        new AccessLog(upstream.log()).settle();
        List<String> lines = upstreamLines();
        List<String> requests = lines.subList(upstreamLinesBefore, lines.size()).stream()
                .filter(l -> l.contains("\"GET /v2/") || l.contains("\"HEAD /v2/")).toList();
        for (Digest layer : image.layerDigests()) {
            assertTrue(requests.stream().anyMatch(l -> l.contains("\"GET /v2/team/app/blobs/" + layer + " ")),
                    "upstream GET of " + layer + " in " + requests);
        }
        for (String line : requests) {
            assertTrue(line.endsWith("\"mirrorball\"") || line.contains("\"mirrorball/"),
                    "upstream request not from the gateway (agent mirrorball): " + line);
        }
    }

    private List<String> upstreamLines() throws Exception {
        return Files.readAllLines(upstream.log(), StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("127.0.0.1 - ")).toList();
    }
}
