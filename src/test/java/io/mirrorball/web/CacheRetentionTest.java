package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.MutableClock;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.SourceRegistryFixture;
import io.mirrorball.upstream.retention.CacheLedger;
import io.mirrorball.upstream.retention.CacheRetention;
import io.mirrorball.upstream.retention.CachedItem;
import io.mirrorball.upstream.retention.RetentionPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention of pulled-through content on real components: Debian's docker-registry filled by
 * {@link SourceRegistryFixture} as the upstream, skopeo as the client, the gateway on real Kubo and on the
 * embedded node. {@code app:1.0.0} and {@code app:2.0.0-rc.1} share a base layer; a locally pushed image
 * shares it too, which makes the base layer pushed content.
 */
final class CacheRetentionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    static Path shared;
    private static SourceRegistryFixture source;

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private final MutableClock clock = MutableClock.at(START);

    @BeforeAll
    static void fill() {
        source = SourceRegistryFixture.start(shared.resolve("source"));
    }

    @AfterAll
    static void stopSource() {
        source.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private void start(String node, MirrorballConfig.Cache cache) throws Exception {
        String url = node.equals("kubo") ? KuboNode.shared().apiUrl().toString() : "embedded";
        gateway = TestGateway.start(url, "/t-" + UUID.randomUUID(), tmp.resolve("gw"),
                Map.of("MIRRORBALL_UPSTREAM_URL", source.uri().toString()),
                config -> new MirrorballConfig(config.http(), config.storage(), config.upstream(), config.upstreams(),
                        cache, config.auth(), config.metrics(), config.log()),
                clock);
    }

    private String gw() {
        return gateway.uri().getAuthority();
    }

    /** Pulls {@code ref} through the gateway into a {@code dir:} copy and returns its folder. */
    private Path pull(String ref, String into) {
        Path dir = tmp.resolve(into);
        Skopeo.in(tmp.resolve("skopeo-" + into)).copy("docker://" + gw() + "/" + ref, "dir:" + dir);
        return dir;
    }

    /** The manifest, config and layer digests of a {@code dir:} copy. */
    private static Set<Digest> digestsOf(Path dir) throws IOException {
        byte[] manifest = Files.readAllBytes(dir.resolve("manifest.json"));
        JsonNode node = JSON.readTree(manifest);
        Set<Digest> digests = new HashSet<>();
        digests.add(Digest.ofBytes(manifest));
        digests.add(Digest.parse(node.path("config").path("digest").asText()));
        for (JsonNode layer : node.path("layers")) {
            digests.add(Digest.parse(layer.path("digest").asText()));
        }
        return digests;
    }

    private CacheLedger ledger() {
        return gateway.gateway().retention().orElseThrow().ledger();
    }

    /** Waits until the ledger knows every digest (manifests are mirrored into the store in the background). */
    private void awaitLedger(Set<Digest> digests) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!digests.stream().allMatch(d -> ledger().item(d).isPresent())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the ledger never listed all of " + digests + ": " + ledger().items());
            }
            Thread.sleep(20);
        }
    }

    /** Retention on the gateway's store and ledger, with gc grace zero so that the embedded node frees at once. */
    private CacheRetention retention(MirrorballConfig.Cache limits) {
        return CacheRetention.of(gateway.gateway().store(), ledger(), limits, clock, Duration.ZERO);
    }

    private boolean stored(Digest digest) throws IOException {
        return gateway.gateway().store().blobs().stat(digest).isPresent();
    }

    private boolean inMfs(Digest digest) throws IOException {
        return gateway.gateway().node().filesStat(gateway.mfsRoot() + "/blobs/sha256/" + digest.hex().substring(0, 2)
                + "/" + digest.hex()).isPresent();
    }

    private static Set<Digest> digests(List<CachedItem> items) {
        return items.stream().map(CachedItem::digest).collect(Collectors.toSet());
    }

    private static long diskUsage(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // removed while walking
                }
            }).sum();
        }
    }

    private boolean pinned(Cid cid) {
        IpfsNode node = gateway.gateway().node();
        if (node instanceof EmbeddedNode embedded) {
            return embedded.pins().contains(cid);
        }
        return KuboNode.shared().rpc("pin/ls?type=recursive").contains(cid.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"kubo", "embedded"})
    void run_sizeCapBelowTwoImages_removesLeastRecentlyUsedFreesSpaceKeepsPushedAndPullsAgain(String node)
            throws Exception {
        start(node, MirrorballConfig.Cache.NONE);
        // the local repository exists before the pulls: a HEAD of a blob in a name that is not local falls
        // through, and is answered from the pull-through cache, so the push would skip the upload
        Skopeo pusher = Skopeo.in(tmp.resolve("skopeo-push"));
        OciLayoutBuilder.Image other = OciLayoutBuilder.at(tmp.resolve("other")).seed(98).layer(5_000, true)
                .build("0");
        pusher.copy(other.skopeoRef(), "docker://" + gw() + "/mine:0");
        Path first = pull("app:1.0.0", "app1");
        Set<Digest> app1 = digestsOf(first);
        awaitLedger(app1);
        clock.advance(Duration.ofMinutes(1));
        Path second = pull("app:2.0.0-rc.1", "app2");
        Set<Digest> app2 = digestsOf(second);
        awaitLedger(app2);

        // a local push sharing the base layer that was pulled through: it is pushed content from now on
        OciLayoutBuilder.Image mine = OciLayoutBuilder.at(tmp.resolve("mine")).seed(1)
                .layer(SourceRegistryFixture.BASE_LAYER_SIZE, true).seed(99).layer(10_000, true).build("1");
        Digest base = mine.layerDigests().get(0);
        assertTrue(app1.contains(base) && app2.contains(base), "the pushed image shares the base layer");
        assertTrue(ledger().item(base).isPresent(), "the base layer was pulled through");
        pusher.copy(mine.skopeoRef(), "docker://" + gw() + "/mine:1");

        Set<Digest> onlyApp1 = new HashSet<>(app1);
        onlyApp1.removeAll(app2);
        Set<Digest> keptApp2 = new HashSet<>(app2);
        keptApp2.remove(base);
        long cap = keptApp2.stream().mapToLong(d -> ledger().item(d).orElseThrow().size()).sum();
        CacheRetention retention = retention(new MirrorballConfig.Cache(cap, Duration.ZERO));

        Digest ownLayer = onlyApp1.stream().filter(d -> !d.equals(Digest.ofBytes(readManifest(first))))
                .max((a, b) -> Long.compare(ledger().item(a).orElseThrow().size(), ledger().item(b).orElseThrow().size()))
                .orElseThrow();
        Cid ownLayerCid = gateway.gateway().store().blobs().stat(ownLayer).orElseThrow().cid();
        gateway.gateway().node().pinAdd(ownLayerCid); // pinned content is unpinned when removed

        RetentionPlan dryRun = retention.plan();
        assertEquals(onlyApp1, digests(dryRun.removals()), "the least recently used image's own content");
        assertTrue(dryRun.idle().isEmpty());
        assertTrue(dryRun.protectedItems() >= 1, "the shared base layer is pushed content");
        long diskBefore = node.equals("embedded") ? diskUsage(tmp.resolve("gw").resolve("ipfs-embedded")) : 0;
        long removedBytes = dryRun.bytesToRemove();

        RetentionPlan run = retention.run();

        assertEquals(dryRun.removals(), run.removals(), "the dry run lists exactly what the run removes");
        for (Digest d : onlyApp1) {
            assertFalse(stored(d), d + " removed");
            assertFalse(inMfs(d), d + " has no MFS entry");
            assertTrue(ledger().item(d).isEmpty(), d + " forgotten");
        }
        for (Digest d : app2) {
            assertTrue(stored(d), d + " kept");
        }
        assertFalse(pinned(ownLayerCid), "unpinned");
        if (node.equals("embedded")) {
            long diskAfter = diskUsage(tmp.resolve("gw").resolve("ipfs-embedded"));
            assertTrue(diskBefore - diskAfter >= minimumFreed(removedBytes),
                    "the embedded node freed the blocks: " + diskBefore + " -> " + diskAfter + " bytes, "
                            + removedBytes + " removed");
        }
        assertTrue(retention.plan().removals().isEmpty(), "nothing more over the cap");

        // pushed content sharing the removed image's base layer stays pullable
        Path minePulled = pull("mine:1", "mine-out");
        assertEquals(digestsOf(minePulled), Set.copyOf(union(mine)));

        // the removed image is fetched again from the upstream, byte for byte the same
        long upstreamBefore = gateway.gateway().upstream().orElseThrow().upstreamRequests();
        Path again = pull("app:1.0.0", "app1-again");
        assertTrue(gateway.gateway().upstream().orElseThrow().upstreamRequests() > upstreamBefore);
        assertSameFiles(first, again);
        awaitStored(ownLayer); // the mirror copy commits after the client has its last byte
        awaitLedger(Set.of(ownLayer));
    }

    /** Waits until the store holds {@code digest}: a pulled-through blob is committed once the tee ends. */
    private void awaitStored(Digest digest) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!stored(digest)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(digest + " was never mirrored again");
            }
            Thread.sleep(20);
        }
    }

    private static long minimumFreed(long removedBytes) {
        return removedBytes - 16 * 1024; // the MFS commit log grows a little with the removals
    }

    private static byte[] readManifest(Path dir) {
        try {
            return Files.readAllBytes(dir.resolve("manifest.json"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Set<Digest> union(OciLayoutBuilder.Image image) {
        Set<Digest> all = new HashSet<>(image.layerDigests());
        all.add(image.config().digest());
        all.add(image.manifestDigest());
        return all;
    }

    private static void assertSameFiles(Path expected, Path actual) throws IOException {
        try (Stream<Path> files = Files.list(expected)) {
            for (Path file : files.toList()) {
                if (file.getFileName().toString().equals("version")) {
                    continue;
                }
                assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(actual.resolve(file.getFileName())),
                        file.getFileName() + " is byte-identical");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"kubo", "embedded"})
    void run_maxIdle_removesWhatWasNotUsedSinceAndKeepsWhatWasUsed(String node) throws Exception {
        MirrorballConfig.Cache limits = new MirrorballConfig.Cache(0, Duration.ofDays(1));
        start(node, limits);
        Path first = pull("app:1.0.0", "app1");
        Set<Digest> app1 = digestsOf(first);
        awaitLedger(app1);
        clock.advance(Duration.ofDays(2));
        Path second = pull("app:2.0.0-rc.1", "app2");
        Set<Digest> app2 = digestsOf(second);
        awaitLedger(app2);
        Set<Digest> onlyApp1 = new HashSet<>(app1);
        onlyApp1.removeAll(app2);

        CacheRetention retention = gateway.gateway().retention().orElseThrow();
        assertTrue(retention.limited(), "cache.max-idle reaches the gateway's retention");
        RetentionPlan dryRun = retention.plan();
        assertEquals(onlyApp1, digests(dryRun.idle()), "idle for two days: the first image's own content");
        assertTrue(dryRun.overSize().isEmpty());

        RetentionPlan run = retention.run();

        assertEquals(dryRun.removals(), run.removals());
        for (Digest d : onlyApp1) {
            assertFalse(stored(d), d + " removed");
        }
        for (Digest d : app2) {
            assertTrue(stored(d), d + " used a moment ago, kept");
        }
        clock.advance(Duration.ofHours(23));
        assertTrue(retention.plan().removals().isEmpty(), "nothing idle for a day yet");
        clock.advance(Duration.ofHours(2));
        assertEquals(app2, digests(retention.plan().idle()), "after a day more, the second image is idle too");
    }
}
