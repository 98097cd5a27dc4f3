package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodes;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.UpstreamTags;
import io.mirrorball.testing.Containerd;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.SourceRegistryFixture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * State that survives a restart: tags learned from a real upstream (docker-registry filled by
 * {@link SourceRegistryFixture}) are kept in the store, so a new gateway on the same data serves pulls by
 * tag and by digest with the upstream down; on real Kubo and on the embedded node, pulled with skopeo
 * and containerd ({@code ctr} with the gateway as its mirror).
 */
final class UpstreamRestartTest {
    private static final String STALE = "110 mirrorball \"Response is Stale\"";
    /** The registry host containerd's references name; hosts.toml sends it to the gateway. */
    private static final String MIRRORED = "mirror-test.invalid:5000";

    @TempDir
    Path tmp;
    private SourceRegistryFixture source;
    private TestGateway gateway;
    private Skopeo puller;

    @BeforeEach
    void setUp() {
        Containerd.requireBinaries();
        source = SourceRegistryFixture.start(tmp.resolve("source"));
        puller = Skopeo.in(tmp.resolve("skopeo-pull"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        source.close();
    }

    private TestGateway start(String nodeKind) throws Exception {
        String node = nodeKind.equals("kubo") ? KuboNode.shared().apiUrl().toString() : "embedded";
        gateway = TestGateway.start(node, "/t-" + UUID.randomUUID(), tmp.resolve("gw"), Map.of(
                "MIRRORBALL_UPSTREAM_URL", source.uri().toString(),
                // containerd asks for the registry in the image name (?ns=): the upstream stands for it
                "MIRRORBALL_UPSTREAM_NAME", MIRRORED,
                "MIRRORBALL_UPSTREAM_TAG_TTL", "5m"));
        return gateway;
    }

    private String gw() {
        return gateway.uri().getAuthority();
    }

    private String upstreamName() {
        return gateway.gateway().upstream().orElseThrow().name();
    }

    @ParameterizedTest
    @ValueSource(strings = {"kubo", "embedded"})
    void restart_upstreamDown_pullsByTagAndDigestFromStore(String node) throws Exception {
        start(node);
        Digest app = source.digest("app:1.1.0");
        Digest tools = source.digest("org/tools:multi");
        puller.copy("docker://" + gw() + "/app:1.1.0", "oci:" + tmp.resolve("before") + ":app");
        puller.copyAll("docker://" + gw() + "/org/tools:multi", "oci:" + tmp.resolve("before-multi") + ":multi");
        puller.copy("docker://" + gw() + "/app@" + app, "oci:" + tmp.resolve("before-digest") + ":app");
        awaitStored(blobsIn(tmp.resolve("before")));
        awaitStored(blobsIn(tmp.resolve("before-multi")));
        awaitKept("app", "1.1.0", app);
        awaitKept("org/tools", "multi", tools);
        String mfsRoot = gateway.mfsRoot();

        source.close();
        gateway = gateway.restart();
        assertEquals(mfsRoot, gateway.mfsRoot());

        // by tag: the kept digest, stale; the upstream is not there to ask
        HttpResponse<byte[]> byTag = gateway.client().get("/v2/app/manifests/1.1.0", "Accept", MediaTypes.ACCEPT_ALL);
        RegistryClient.expect(byTag, 200, "manifest by tag after the restart");
        assertEquals(app.toString(), byTag.headers().firstValue("Docker-Content-Digest").orElse(null));
        assertEquals(STALE, byTag.headers().firstValue("Warning").orElse(null));
        assertEquals(app, Digest.ofBytes(byTag.body()));
        HttpResponse<byte[]> headByTag = gateway.client().head("/v2/org/tools/manifests/multi",
                "Accept", MediaTypes.ACCEPT_ALL);
        RegistryClient.expect(headByTag, 200, "HEAD by tag after the restart");
        assertEquals(tools.toString(), headByTag.headers().firstValue("Docker-Content-Digest").orElse(null));

        puller.copy("docker://" + gw() + "/app:1.1.0", "oci:" + tmp.resolve("after") + ":app");
        puller.copyAll("docker://" + gw() + "/org/tools:multi", "oci:" + tmp.resolve("after-multi") + ":multi");
        puller.copy("docker://" + gw() + "/app@" + app, "oci:" + tmp.resolve("after-digest") + ":app");
        assertSameBlobs(tmp.resolve("before"), tmp.resolve("after"));
        assertSameBlobs(tmp.resolve("before-multi"), tmp.resolve("after-multi"));
        assertSameBlobs(tmp.resolve("before-digest"), tmp.resolve("after-digest"));
        assertTrue(Files.exists(tmp.resolve("after/blobs/sha256/" + app.hex())), "the tag's manifest was pulled");
        assertTrue(Files.exists(tmp.resolve("after-multi/blobs/sha256/" + tools.hex())), "the index was pulled");

        // containerd, with the gateway as its mirror (hosts.toml): by tag, then by digest
        try (Containerd containerd = Containerd.start(tmp.resolve("containerd"))) {
            Path hosts = Containerd.writeHostsToml(tmp.resolve("hosts"), MIRRORED, gateway.uri());
            containerd.pull(MIRRORED + "/app:1.1.0", hosts);
            assertEquals(app, containerd.imageDigest(MIRRORED + "/app:1.1.0"), "the kept digest");
            containerd.pull(MIRRORED + "/org/tools@" + tools, hosts);
            Set<Digest> content = containerd.contentDigests();
            for (Digest digest : blobsIn(tmp.resolve("before"))) {
                assertTrue(content.contains(digest), digest + " in containerd's content store");
            }
            assertTrue(content.contains(tools), "the index pulled by digest");
        }

        // a tag never pulled before the restart is not known: a clear error, as before
        RegistryClient.assertOciError(gateway.client().get("/v2/app/manifests/1.0.0"), 502, "UNAVAILABLE");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kubo", "embedded"})
    void restart_tamperedOrTornLink_ignoredNotServed(String node) throws Exception {
        start(node);
        for (String tag : List.of("1.0.0", "1.1.0", "latest")) {
            RegistryClient.expect(gateway.client().get("/v2/app/manifests/" + tag), 200, "app:" + tag);
            awaitKept("app", tag, source.digest("app:" + tag));
        }
        String upstream = upstreamName();
        String tags = gateway.mfsRoot() + "/upstreams/" + upstream + "/app/_manifests/tags/";
        gateway.close();
        try (IpfsNode ipfs = IpfsNodes.open(ConfigLoader.load(Optional.empty(), gateway.env()).storage().ipfs())) {
            String torn = source.digest("app:1.0.0").toString();
            ipfs.filesWrite(tags + "1.0.0/current/link", torn.substring(0, torn.length() - 9)
                    .getBytes(StandardCharsets.UTF_8));
            ipfs.filesWrite(tags + "latest/current/link", "not a digest".getBytes(StandardCharsets.UTF_8));
        }
        source.close();
        gateway = gateway.restart();

        RegistryClient.assertOciError(gateway.client().get("/v2/app/manifests/1.0.0"), 502, "UNAVAILABLE");
        RegistryClient.assertOciError(gateway.client().get("/v2/app/manifests/latest"), 502, "UNAVAILABLE");
        HttpResponse<byte[]> intact = gateway.client().get("/v2/app/manifests/1.1.0");
        RegistryClient.expect(intact, 200, "the link nobody touched");
        assertEquals(source.digest("app:1.1.0"), Digest.ofBytes(intact.body()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"kubo"})
    void hundredPullsOfOneTag_withinTtl_oneUpstreamRequest(String node) throws Exception {
        start(node);
        Digest app = source.digest("app:1.1.0");
        long before = gateway.gateway().upstream().orElseThrow().upstreamRequests();
        long logBefore = source.accessLog().settledCount("GET", "/v2/app/manifests/1.1.0 ");
        for (int i = 0; i < 100; i++) {
            HttpResponse<byte[]> r = gateway.client().get("/v2/app/manifests/1.1.0");
            RegistryClient.expect(r, 200, "pull " + i);
            assertEquals(app.toString(), r.headers().firstValue("Docker-Content-Digest").orElse(null));
        }
        assertEquals(1, gateway.gateway().upstream().orElseThrow().upstreamRequests() - before,
                "a cold tag: one GET, then fresh for its TTL");
        assertEquals(1, source.accessLog().settledCount("GET", "/v2/app/manifests/1.1.0 ") - logBefore);
        awaitKept("app", "1.1.0", app);

        // after a restart the kept tag is stale: one HEAD (which Docker Hub does not count), then fresh
        gateway = gateway.restart();
        long headsBefore = source.accessLog().settledCount("HEAD", "/v2/app/manifests/1.1.0 ");
        long getsBefore = source.accessLog().settledCount("GET", "/v2/app/manifests/");
        for (int i = 0; i < 100; i++) {
            HttpResponse<byte[]> r = gateway.client().get("/v2/app/manifests/1.1.0");
            RegistryClient.expect(r, 200, "pull " + i + " after the restart");
            assertEquals(app, Digest.ofBytes(r.body()));
            assertFalse(r.headers().firstValue("Warning").isPresent(), "revalidated, not stale");
        }
        assertEquals(1, gateway.gateway().upstream().orElseThrow().upstreamRequests());
        assertEquals(1, source.accessLog().settledCount("HEAD", "/v2/app/manifests/1.1.0 ") - headsBefore);
        assertEquals(0, source.accessLog().settledCount("GET", "/v2/app/manifests/") - getsBefore,
                "the manifest comes from the store");
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded"})
    void catalog_pulledThroughRepositories_listedAndPaged(String node) throws Exception {
        start(node);
        for (String ref : List.of("app/manifests/1.1.0", "org/tools/manifests/multi", "legacy/manifests/v1")) {
            RegistryClient.expect(gateway.client().get("/v2/" + ref), 200, ref);
        }
        awaitKept("legacy", "v1", source.digest("legacy:v1"));
        awaitKept("org/tools", "multi", source.digest("org/tools:multi"));
        awaitKept("app", "1.1.0", source.digest("app:1.1.0"));
        // another upstream's repositories are listed with its name in front (as a routed name is spelled)
        UpstreamTags kept = gateway.gateway().store().upstreamTags();
        kept.write("ghcr.io", RepositoryName.parse("org/app"), "v1", source.digest("app:1.1.0"), null);
        gateway.client().pushImage("pushed", "v1", 1);

        JsonNode all = RegistryClient.json(gateway.client().get("/v2/_catalog"));
        assertEquals(List.of("app", "ghcr.io/org/app", "legacy", "org/tools", "pushed"), texts(all.get("repositories")));
        HttpResponse<byte[]> first = gateway.client().get("/v2/_catalog?n=2");
        assertEquals(List.of("app", "ghcr.io/org/app"), texts(RegistryClient.json(first).get("repositories")));
        assertEquals("</v2/_catalog?n=2&last=ghcr.io%2Forg%2Fapp>; rel=\"next\"",
                first.headers().firstValue("Link").orElse(null));
        HttpResponse<byte[]> second = gateway.client().get("/v2/_catalog?n=2&last=ghcr.io%2Forg%2Fapp");
        assertEquals(List.of("legacy", "org/tools"), texts(RegistryClient.json(second).get("repositories")));
        HttpResponse<byte[]> third = gateway.client().get("/v2/_catalog?n=2&last=org%2Ftools");
        assertEquals(List.of("pushed"), texts(RegistryClient.json(third).get("repositories")));
        assertFalse(third.headers().firstValue("Link").isPresent());

        // retention's API: a removed tag leaves the listing with its repository
        assertTrue(kept.remove("ghcr.io", RepositoryName.parse("org/app"), "v1"));
        assertFalse(texts(RegistryClient.json(gateway.client().get("/v2/_catalog")).get("repositories"))
                .contains("ghcr.io/org/app"));

        // after a restart with the upstream down: still listed, and tags/list answers the kept tags
        source.close();
        gateway = gateway.restart();
        assertEquals(List.of("app", "legacy", "org/tools", "pushed"),
                texts(RegistryClient.json(gateway.client().get("/v2/_catalog")).get("repositories")));
        HttpResponse<byte[]> tags = gateway.client().get("/v2/app/tags/list");
        RegistryClient.expect(tags, 200, "kept tags");
        assertEquals(List.of("1.1.0"), texts(RegistryClient.json(tags).get("tags")));
        assertEquals(STALE, tags.headers().firstValue("Warning").orElse(null));
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    /** Waits until the store keeps the tag at the digest (it is written off the request path). */
    private void awaitKept(String repository, String tag, Digest digest) throws Exception {
        UpstreamTags kept = gateway.gateway().store().upstreamTags();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!kept.read(upstreamName(), RepositoryName.parse(repository), tag)
                .map(t -> t.digest().equals(digest)).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(repository + ":" + tag + " was not kept in the store within 30 s");
            }
            Thread.sleep(50);
        }
    }

    /** Waits until every digest is in the gateway's IPFS store (mirrored off the request path). */
    private void awaitStored(List<Digest> digests) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (Digest digest : digests) {
            while (gateway.gateway().store().blobs().stat(digest).isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(digest + " was not mirrored into IPFS within 30 s");
                }
                Thread.sleep(50);
            }
        }
    }

    private static List<Digest> blobsIn(Path layout) throws Exception {
        try (Stream<Path> files = Files.list(layout.resolve("blobs/sha256"))) {
            return files.map(f -> Digest.parse("sha256:" + f.getFileName())).toList();
        }
    }

    private static void assertSameBlobs(Path before, Path after) throws Exception {
        List<Digest> expected = blobsIn(before);
        assertEquals(expected.stream().map(Digest::toString).sorted().toList(),
                blobsIn(after).stream().map(Digest::toString).sorted().toList(), after.toString());
        for (Digest digest : expected) {
            byte[] bytes = Files.readAllBytes(after.resolve("blobs/sha256/" + digest.hex()));
            assertArrayEquals(Files.readAllBytes(before.resolve("blobs/sha256/" + digest.hex())), bytes);
            assertEquals(digest, Digest.ofBytes(bytes), "the bytes match their digest");
        }
        assertArrayEquals(Files.readAllBytes(before.resolve("index.json")), Files.readAllBytes(after.resolve("index.json")));
    }
}
