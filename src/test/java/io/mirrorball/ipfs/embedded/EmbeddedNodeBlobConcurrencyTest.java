package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several threads import multi-chunk files into blob files at once, some of them the same bytes at
 * the same moment, while others read what was imported (whole files, ranges, single leaves).
 */
final class EmbeddedNodeBlobConcurrencyTest {
    private static final int CHUNK = BlobFiles.CHUNK;
    private static final int ADDERS = 4;
    private static final int READERS = 2;
    private static final int ADDS_PER_THREAD = 12;

    @TempDir
    Path dir;

    @Test
    void add_fourThreadsSameAndDifferentContent_cidsAsSingleThreadedAndEverythingReadsBack() throws Exception {
        Map<Long, String> sha256 = new HashMap<>();
        for (int t = 0; t < ADDERS; t++) {
            for (int j = 0; j < ADDS_PER_THREAD; j++) {
                long seed = seed(t, j);
                sha256.computeIfAbsent(seed, s -> hash(TestBytes.of(s, size(s))));
            }
        }
        Map<Long, Set<Cid>> cids = new ConcurrentHashMap<>();
        List<Map.Entry<Long, Cid>> added = new CopyOnWriteArrayList<>();
        AtomicBoolean adding = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(ADDERS + READERS, r -> {
            Thread thread = new Thread(r, "blob-concurrency-test-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        CyclicBarrier together = new CyclicBarrier(ADDERS);
        Path nodeDir = dir.resolve("concurrent");
        try (EmbeddedNode node = EmbeddedNode.open(nodeDir)) {
            List<Future<?>> adders = new ArrayList<>();
            for (int t = 0; t < ADDERS; t++) {
                int thread = t;
                adders.add(pool.submit(() -> {
                    byte[] piece = new byte[100_003];
                    for (int j = 0; j < ADDS_PER_THREAD; j++) {
                        long seed = seed(thread, j);
                        together.await(60, TimeUnit.SECONDS); // the same content goes in at the same moment
                        Cid cid;
                        try (InputStream in = TestBytes.of(seed, size(seed))) {
                            cid = TestBytes.add(node, in, (thread + j) % 2 != 0, piece);
                        }
                        cids.computeIfAbsent(seed, s -> ConcurrentHashMap.newKeySet()).add(cid);
                        added.add(Map.entry(seed, cid));
                    }
                    return null;
                }));
            }
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                int reader = r;
                readers.add(pool.submit(() -> {
                    Random random = new Random(reader);
                    while (adding.get()) {
                        if (added.isEmpty()) {
                            Thread.onSpinWait();
                            continue;
                        }
                        Map.Entry<Long, Cid> one = added.get(random.nextInt(added.size()));
                        readOne(node, one.getKey(), one.getValue(), sha256.get(one.getKey()), random);
                        reads.incrementAndGet();
                    }
                    return null;
                }));
            }
            try {
                for (Future<?> adder : adders) {
                    adder.get(3, TimeUnit.MINUTES);
                }
            } finally {
                adding.set(false);
            }
            for (Future<?> reader : readers) {
                reader.get(1, TimeUnit.MINUTES);
            }
            assertTrue(reads.get() > 0, "the readers read nothing while the adders added");

            Map<Long, Cid> single = singleThreadedCids(sha256.keySet());
            for (Map.Entry<Long, Set<Cid>> seed : cids.entrySet()) {
                assertEquals(Set.of(single.get(seed.getKey())), seed.getValue(), "CIDs of content " + seed.getKey());
            }
            assertEquals(sha256.keySet(), cids.keySet());
            for (Map.Entry<Long, Cid> cid : single.entrySet()) {
                assertEquals(sha256.get(cid.getKey()), hash(node.cat(cid.getValue().toString(), 0, -1)));
                assertEquals(sha256.get(cid.getKey()), hash(node.catUnverified(cid.getValue().toString(), 0, -1)));
            }
            assertTrue(node.fsck().clean());
            Set<String> want = new TreeSet<>();
            for (Cid cid : single.values()) {
                String hex = HexFormat.of().formatHex(cid.sha256Digest());
                want.add(hex + ".data");
                want.add(hex + ".idx");
            }
            assertEquals(want, names(nodeDir.resolve("blobs")), "one pair of files per distinct content");
            assertEquals(Set.of(), names(nodeDir.resolve("blobs/.tmp")));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
        try (EmbeddedNode node = EmbeddedNode.open(nodeDir)) {
            assertTrue(node.fsck().clean(), "after a reopen");
            for (Map.Entry<Long, Set<Cid>> seed : cids.entrySet()) {
                assertEquals(sha256.get(seed.getKey()), hash(node.cat(seed.getValue().iterator().next().toString(), 0, -1)));
            }
        }
    }

    /** Reads a file that was added: whole (verified or not), a range, and one of its leaves as a block. */
    private static void readOne(EmbeddedNode node, long seed, Cid cid, String sha256, Random random) throws IOException {
        switch (random.nextInt(4)) {
            case 0 -> assertEquals(sha256, hash(node.cat(cid.toString(), 0, -1)), "cat of " + seed);
            case 1 -> assertEquals(sha256, hash(node.catUnverified(cid.toString(), 0, -1)), "catUnverified of " + seed);
            case 2 -> {
                long offset = random.nextInt((int) size(seed));
                byte[] want;
                try (InputStream in = TestBytes.of(seed, size(seed))) {
                    in.skipNBytes(offset);
                    want = in.readNBytes(CHUNK + 1);
                }
                try (InputStream in = node.cat(cid.toString(), offset, CHUNK + 1)) {
                    assertArrayEquals(want, in.readAllBytes(), "range of " + seed + " at " + offset);
                }
            }
            default -> {
                List<DagPb.Link> leaves = DagPb.decode(node.blockGet(cid)).links();
                DagPb.Link leaf = leaves.get(random.nextInt(leaves.size()));
                byte[] block = node.blockGet(leaf.cid());
                assertArrayEquals(leaf.cid().sha256Digest(), UnixFs.sha256(block), "leaf of " + seed);
                assertEquals(Long.valueOf(block.length), node.blockStat(leaf.cid()).orElseThrow());
            }
        }
    }

    /** The CIDs of the same contents, added one after the other into a node of their own. */
    private Map<Long, Cid> singleThreadedCids(Set<Long> seeds) throws IOException {
        Map<Long, Cid> cids = new HashMap<>();
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("single"))) {
            for (long seed : seeds) {
                cids.put(seed, node.add(TestBytes.of(seed, size(seed))).cid());
            }
        }
        return cids;
    }

    /** Even adds: the same content in every thread; odd ones: content of the thread's own. */
    private static long seed(int thread, int add) {
        return add % 2 == 0 ? 100 + add : 1000L * (thread + 1) + add;
    }

    /** 2 to 10 chunks, most with a short last leaf (fewer than 174 leaves: the root links to every leaf). */
    private static long size(long seed) {
        return (2 + seed % 9) * CHUNK + (seed * 37) % 1000;
    }

    private static String hash(InputStream stream) {
        try (InputStream in = stream) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65_536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new AssertionError("reading failed: " + e, e);
        }
    }

    private static Set<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(Files::isRegularFile).map(f -> f.getFileName().toString())
                    .filter(name -> !name.startsWith(".")) // not the repack marker
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }
}
