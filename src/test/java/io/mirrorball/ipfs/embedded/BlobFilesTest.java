package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.UnixFs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The blob tier of the embedded node's store: data files, their indexes, and the leaf index (issue 11). */
final class BlobFilesTest {
    private static final int CHUNK = BlobFiles.CHUNK;
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    private ExecutorService threads;

    @BeforeEach
    void startThreads() {
        AtomicInteger number = new AtomicInteger();
        threads = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "blob-files-test-" + number.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS), "test threads did not stop");
    }

    @Test
    void import_multiChunkFile_everyLeafByOffsetEqualsTheSourceAndVerifies() throws IOException {
        byte[] content = bytes(1, 5L * CHUNK + 1234);
        Blockstore store = openStore();

        BlobFiles.DataFile file = importBytes(store, content);

        assertEquals(6, file.leafCount());
        assertEquals(content.length, file.length());
        assertArrayEquals(content, Files.readAllBytes(file.data()), "the data file is the imported bytes");
        assertTrue(Files.exists(file.index()));
        for (int leaf = 0; leaf < file.leafCount(); leaf++) {
            byte[] want = Arrays.copyOfRange(content, leaf * CHUNK, Math.min(content.length, (leaf + 1) * CHUNK));
            byte[] digest = file.leafDigest(leaf);
            assertArrayEquals(UnixFs.sha256(want), digest, "digest of leaf " + leaf);
            BlobFiles.Leaf found = store.blobs().locate(digest).orElseThrow();
            assertEquals(leaf, found.index());
            assertEquals((long) leaf * CHUNK, found.offset());
            assertEquals(want.length, found.length());
            assertArrayEquals(want, store.blobs().read(found).orElseThrow(), "leaf " + leaf + " read by offset");
            assertArrayEquals(want, store.get(Cid.sha256(Cid.RAW, digest)), "leaf " + leaf + " through get (verified)");
            assertEquals(Long.valueOf(want.length), store.size(Cid.sha256(Cid.RAW, digest)).orElseThrow());
        }
        assertEquals(List.of(), collect(store.blobs(), file), "every leaf verifies");
    }

    @Test
    void open_unfinishedImportAndDataFileWithoutIndex_areDeletedAndTheRestStillReads() throws IOException {
        byte[] kept = bytes(2, 3L * CHUNK + 5);
        byte[] dropped = bytes(3, 2L * CHUNK + 9);
        Blockstore store = openStore();
        BlobFiles.DataFile keptFile = importBytes(store, kept);
        BlobFiles.DataFile droppedFile = importBytes(store, dropped);
        Files.delete(droppedFile.index()); // as if killed between the renames of data and index
        Path tmp = blobsDir().resolve(".tmp");
        Files.write(tmp.resolve("7.data"), bytes(4, CHUNK + 3)); // an import killed before its commit
        Files.write(tmp.resolve("7.data.idx"), new byte[64]);
        // an import killed while its writer still ran: a real, unfinished writer's temp file
        BlobFileWriter unfinished = store.newImport(threads);
        unfinished.put(UnixFs.sha256(new byte[CHUNK]), fullChunk(unfinished, (byte) 7), CHUNK);
        assertEquals(3, countFiles(tmp));

        Blockstore reopened = openStore();

        assertEquals(0, countFiles(tmp), "temp files of unfinished imports are deleted");
        assertFalse(Files.exists(droppedFile.data()), "a data file without an index is deleted");
        assertTrue(reopened.blobs().byRoot(droppedFile.root()).isEmpty());
        assertEquals(List.of(), reopened.blobs().unreadable());
        BlobFiles.DataFile again = reopened.blobs().byRoot(keptFile.root()).orElseThrow();
        assertArrayEquals(kept, readAll(reopened.blobs().open(again, 0, -1, true)));
        assertEquals(Set.of(keptFile.data(), keptFile.index()), listBlobs());
        unfinished.close();
    }

    /** How an index file is damaged in {@link #open_damagedIndex_isNotLoadedButTheNodeOpensAndOtherBlobsRead}. */
    enum Damage { BAD_CRC, DATA_LONGER, DATA_SHORTER, OTHER_ROOTS_INDEX }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(Damage.class)
    void open_damagedIndex_isNotLoadedButTheNodeOpensAndOtherBlobsRead(Damage damage) throws IOException {
        long size = 3L * CHUNK + 100; // the same length for both, so only the root check tells their indexes apart
        Path nodeDir = dir.resolve("node");
        Cid good;
        Cid bad;
        try (EmbeddedNode node = EmbeddedNode.open(nodeDir)) {
            good = node.add(TestBytes.of(10, size)).cid();
            bad = node.add(TestBytes.of(11, size)).cid();
        }
        Path badIndex = blobsDir().resolve(HEX.formatHex(bad.sha256Digest()) + ".idx");
        Path badData = blobsDir().resolve(HEX.formatHex(bad.sha256Digest()) + ".data");
        Path goodIndex = blobsDir().resolve(HEX.formatHex(good.sha256Digest()) + ".idx");
        switch (damage) {
            case BAD_CRC -> flipByteAt(badIndex, 40); // inside the second leaf digest
            case DATA_LONGER -> Files.write(badData, new byte[1], StandardOpenOption.APPEND);
            case DATA_SHORTER -> truncate(badData, size - 1);
            case OTHER_ROOTS_INDEX -> Files.copy(goodIndex, badIndex, StandardCopyOption.REPLACE_EXISTING);
            default -> throw new IllegalStateException();
        }

        BlobFiles blobs = BlobFiles.open(blobsDir());
        assertEquals(1, blobs.unreadable().size(), blobs.unreadable().toString());
        assertTrue(blobs.unreadable().get(0).startsWith(HEX.formatHex(bad.sha256Digest()) + ": "),
                blobs.unreadable().toString());
        assertTrue(blobs.byRoot(bad.sha256Digest()).isEmpty(), "a damaged index is not loaded");
        assertTrue(blobs.byRoot(good.sha256Digest()).isPresent());
        assertTrue(Files.exists(badIndex) && Files.exists(badData), "an unreadable blob is left on disk for fsck");

        try (EmbeddedNode node = EmbeddedNode.open(nodeDir)) {
            FsckReport found = node.fsck(false);
            assertEquals(blobs.unreadable(), found.damagedBlobFiles());
            assertFalse(found.clean());
        }
        try (EmbeddedNode node = EmbeddedNode.open(nodeDir)) {
            assertArrayEquals(TestBytes.of(10, size).readAllBytes(), readAll(node.cat(good.toString(), 0, -1)));
            assertThrows(IOException.class, () -> readAll(node.cat(bad.toString(), 0, -1)),
                    "the blob whose index was not loaded has no leaves");
            // a re-push of the same bytes replaces both files, and the blob reads again
            assertEquals(bad, node.add(TestBytes.of(11, size)).cid());
            assertArrayEquals(TestBytes.of(11, size).readAllBytes(), readAll(node.cat(bad.toString(), 0, -1)));
        }
        assertEquals(List.of(), BlobFiles.open(blobsDir()).unreadable(), "repaired by the re-push");
    }

    @Test
    void import_sameContentTwice_keepsOnePairOfFiles() throws IOException {
        byte[] content = bytes(20, 2L * CHUNK + 77);
        Blockstore store = openStore();

        BlobFiles.DataFile first = importBytes(store, content);
        BlobFiles.DataFile second = importBytes(store, content);

        assertArrayEquals(first.root(), second.root());
        assertEquals(Set.of(first.data(), first.index()), listBlobs());
        assertEquals(0, countFiles(blobsDir().resolve(".tmp")));
        assertEquals(1, store.blobs().all().size());
        assertEquals(second, store.blobs().byRoot(first.root()).orElseThrow(), "the newer import serves it");
        for (int leaf = 0; leaf < second.leafCount(); leaf++) {
            assertEquals(second, store.blobs().locate(second.leafDigest(leaf)).orElseThrow().file(),
                    "leaf " + leaf + " is found in the file that is still there");
        }
        assertArrayEquals(content, readAll(store.blobs().open(second, 0, -1, true)));
        assertEquals(1, openStore().blobs().all().size(), "after a reopen too");
    }

    @Test
    void import_again_repairsACorruptedDataFile() throws IOException {
        byte[] content = bytes(21, 3L * CHUNK + 1);
        Blockstore store = openStore();
        BlobFiles.DataFile file = importBytes(store, content);
        flipByteAt(file.data(), CHUNK + 10);
        assertEquals(List.of(HEX.formatHex(file.leafDigest(1))), collect(store.blobs(), file));
        IpfsException corrupt = assertThrows(IpfsException.class, () -> readAll(store.blobs().open(file, 0, -1, true)));
        assertEquals(IpfsException.Kind.CORRUPT, corrupt.kind());

        BlobFiles.DataFile again = importBytes(store, content);

        assertEquals(List.of(), collect(store.blobs(), again));
        assertArrayEquals(content, readAll(store.blobs().open(again, 0, -1, true)));
        assertArrayEquals(content, Files.readAllBytes(file.data()));
        BlobFiles.DataFile reopened = openStore().blobs().byRoot(file.root()).orElseThrow();
        assertArrayEquals(content, readAll(openStore().blobs().open(reopened, 0, -1, true)));
    }

    @Test
    void open_manyRanges_returnTheBytesVerifiedOrNot() throws IOException {
        byte[] content = bytes(30, 3L * CHUNK + 1000);
        Blockstore store = openStore();
        BlobFiles.DataFile file = importBytes(store, content);
        long[] offsets = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2L * CHUNK - 1, 2L * CHUNK, 3L * CHUNK, 3L * CHUNK + 999,
            3L * CHUNK + 1000, 3L * CHUNK + 1001, 10L * CHUNK};
        long[] lengths = {-1, 0, 1, 2, 999, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2L * CHUNK + 1, 10L * CHUNK};
        int checked = 0;
        for (long offset : offsets) {
            for (long length : lengths) {
                byte[] want = slice(content, offset, length);
                for (boolean verify : new boolean[] {true, false}) {
                    String what = "offset " + offset + " length " + length + " verify " + verify;
                    assertArrayEquals(want, readAll(store.blobs().open(file, offset, length, verify)), what);
                    assertArrayEquals(want, readInPieces(store.blobs().open(file, offset, length, verify)), what);
                    checked++;
                }
            }
        }
        assertEquals(offsets.length * lengths.length * 2, checked);
    }

    /** BlobFiles.open computed the end as offset + length, which overflowed for a length near Long.MAX_VALUE. */
    @ParameterizedTest(name = "offset {0}")
    @ValueSource(longs = {0, 1, 262_145})
    void open_lengthOfLongMaxValue_readsToTheEnd(long offset) throws IOException {
        byte[] content = bytes(31, 2L * CHUNK + 3);
        Blockstore store = openStore();
        BlobFiles.DataFile file = importBytes(store, content);

        for (boolean verify : new boolean[] {true, false}) {
            assertArrayEquals(Arrays.copyOfRange(content, (int) offset, content.length),
                    readAll(store.blobs().open(file, offset, Long.MAX_VALUE, verify)), "verify " + verify);
        }
    }

    @Test
    void open_flippedByteInLeafK_failsCorruptBeforeAnyByteOfLeafK() throws IOException {
        byte[] content = bytes(32, 4L * CHUNK + 777);
        Blockstore store = openStore();
        BlobFiles.DataFile file = importBytes(store, content);
        for (int k : new int[] {0, 1, 2, 4}) {
            long flipped = (long) k * CHUNK + (k == 4 ? 500 : CHUNK - 1);
            flipByteAt(file.data(), flipped);
            byte[] stored = content.clone();
            stored[(int) flipped] ^= 0x01;

            byte[] out = new byte[content.length];
            int[] got = {0};
            IpfsException e = assertThrows(IpfsException.class, () -> {
                try (InputStream in = store.blobs().open(file, 0, -1, true)) {
                    int n;
                    while ((n = in.read(out, got[0], Math.min(65_536, out.length - got[0]))) > 0) {
                        got[0] += n;
                    }
                }
            }, "leaf " + k);
            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(got[0] <= k * CHUNK, "leaf " + k + ": " + got[0] + " bytes were returned");
            assertArrayEquals(Arrays.copyOf(content, got[0]), Arrays.copyOf(out, got[0]), "bytes before leaf " + k);

            // a range inside leaf k that does not cover the flipped byte fails too: the whole leaf is checked
            long inside = k * (long) CHUNK + 3;
            byte[] one = new byte[10];
            IpfsException range = assertThrows(IpfsException.class, () -> {
                try (InputStream in = store.blobs().open(file, inside, 10, true)) {
                    assertEquals(-1, in.read(one, 0, 10), "no byte of leaf " + k + " is returned");
                }
            });
            assertEquals(IpfsException.Kind.CORRUPT, range.kind());
            // ranges that do not touch leaf k read as usual
            if (k > 0) {
                assertArrayEquals(Arrays.copyOf(content, k * CHUNK), readAll(store.blobs().open(file, 0, (long) k * CHUNK, true)));
            }
            if (k < file.leafCount() - 1) {
                assertArrayEquals(slice(content, (k + 1L) * CHUNK, -1), readAll(store.blobs().open(file, (k + 1L) * CHUNK, -1, true)));
            }
            assertArrayEquals(stored, readAll(store.blobs().open(file, 0, -1, false)), "unverified: the bytes as stored");
            assertArrayEquals(slice(stored, inside, 10), readAll(store.blobs().open(file, inside, 10, false)));

            flipByteAt(file.data(), flipped); // back as it was
            assertArrayEquals(content, readAll(store.blobs().open(file, 0, -1, true)));
        }
    }

    @Test
    void leafIndex_manyEntries_findsEveryOneAndNothingElse() {
        LeafIndex index = new LeafIndex();
        Random random = new Random(40);
        byte[][] digests = new byte[50_000][32];
        for (int i = 0; i < digests.length; i++) {
            random.nextBytes(digests[i]);
            index.add(digests[i], i / 1000, i % 1000);
        }
        assertEquals(digests.length, index.size());
        for (int i = 0; i < digests.length; i++) {
            assertEquals(List.of(location(i / 1000, i % 1000)), candidates(index, digests[i]), "entry " + i);
        }
        byte[] absent = new byte[32];
        random.nextBytes(absent);
        assertEquals(List.of(), candidates(index, absent));

        index.clear();
        assertEquals(0, index.size());
        assertEquals(List.of(), candidates(index, digests[7]));
    }

    @Test
    void leafIndex_digestsSharingTheirFirst8Bytes_findsEach() {
        LeafIndex index = new LeafIndex();
        Random random = new Random(41);
        byte[] first = new byte[32];
        random.nextBytes(first);
        byte[] second = first.clone();
        second[8] ^= 0x01;
        byte[] third = first.clone();
        third[31] ^= 0x01;
        index.add(first, 1, 10);
        for (int i = 0; i < 5000; i++) { // the table grows several times between the colliding entries
            byte[] other = new byte[32];
            random.nextBytes(other);
            index.add(other, 100, i);
        }
        index.add(second, 2, 20);
        index.add(third, 3, 30);

        Set<Long> want = Set.of(location(1, 10), location(2, 20), location(3, 30));
        assertEquals(want, new HashSet<>(candidates(index, first)), "every entry with the prefix is a candidate");
        assertEquals(want, new HashSet<>(candidates(index, second)));
        int[] offered = {0};
        index.find(second, (file, leaf) -> ++offered[0] > 0);
        assertEquals(1, offered[0], "the search stops when the candidate says so");
    }

    @Test
    void locate_leavesWhoseDigestsShareAPrefix_findsEachInItsOwnFile() throws IOException {
        BlobFiles blobs = BlobFiles.open(blobsDir());
        Random random = new Random(42);
        byte[] x = randomDigests(random, 3);
        byte[] y = randomDigests(random, 2);
        System.arraycopy(x, 32, y, 0, 8); // y's leaf 0 starts as x's leaf 1
        BlobFiles.DataFile fileX = fakeCommit(blobs, x);
        BlobFiles.DataFile fileY = fakeCommit(blobs, y);

        BlobFiles.Leaf inX = blobs.locate(fileX.leafDigest(1)).orElseThrow();
        BlobFiles.Leaf inY = blobs.locate(fileY.leafDigest(0)).orElseThrow();

        assertEquals(new BlobFiles.Leaf(fileX, 1), inX);
        assertEquals(new BlobFiles.Leaf(fileY, 0), inY);
        byte[] neither = fileY.leafDigest(0);
        neither[20] ^= 0x01;
        assertTrue(blobs.locate(neither).isEmpty(), "a digest with the same prefix but no leaf is not found");
        BlobFiles reopened = BlobFiles.open(blobsDir());
        assertEquals(1, reopened.locate(fileX.leafDigest(1)).orElseThrow().index());
        assertEquals(0, reopened.locate(fileY.leafDigest(0)).orElseThrow().index());
    }

    /**
     * locate took the leaf index's lock, then the file list's; commit took them the other way round,
     * so a block lookup (a gateway's block/get, fsck) at the same time as an import's commit could
     * deadlock. And a commit that replaced a blob (or rebuilt the leaf index) left its leaves
     * unfindable for a moment.
     */
    @Test
    void locate_concurrentWithCommitsOfTheSameRoot_neverDeadlocksNorMissesALeaf() throws Exception {
        BlobFiles blobs = BlobFiles.open(blobsDir());
        byte[] digests = randomDigests(new Random(43), 4096); // 1 GiB, sparse on disk
        BlobFiles.DataFile big = fakeCommit(blobs, digests);
        AtomicBoolean committing = new AtomicBoolean(true);
        AtomicLong lookups = new AtomicLong();
        AtomicLong misses = new AtomicLong();
        Future<?> reader = threads.submit(() -> {
            Random random = new Random(44);
            while (committing.get()) {
                int leaf = random.nextInt(4096);
                if (blobs.locate(Arrays.copyOfRange(digests, leaf * 32, leaf * 32 + 32)).isEmpty()) {
                    misses.incrementAndGet();
                }
                lookups.incrementAndGet();
            }
            return null;
        });
        Future<?> writer = threads.submit(() -> {
            try {
                for (int i = 0; i < 12; i++) {
                    fakeCommit(blobs, digests); // each replaces the last; the third and later rebuild the index
                }
            } finally {
                committing.set(false);
            }
            return null;
        });
        writer.get(30, TimeUnit.SECONDS); // a deadlock shows as a timeout
        reader.get(10, TimeUnit.SECONDS);

        assertTrue(lookups.get() > 0);
        assertEquals(0, misses.get(), "lookups that missed a committed leaf, of " + lookups.get());
        assertEquals(1, blobs.all().size());
        assertEquals(big.data(), blobs.all().get(0).data());
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {0, 1, 262_143, 262_144})
    void add_fileOfOneChunkOrLess_isASmallBlockWithNoBlobFile(long size) throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Cid cid = node.add(TestBytes.of(50, size)).cid();

            assertEquals(Cid.RAW, cid.codec(), "one chunk is a raw leaf");
            String hex = HEX.formatHex(cid.sha256Digest());
            assertTrue(Files.isRegularFile(dir.resolve("node/blocks").resolve(hex.substring(0, 2)).resolve(hex)));
            assertEquals(Set.of(), listBlobs(), "no blob file");
            byte[] want = TestBytes.of(50, size).readAllBytes();
            assertArrayEquals(want, readAll(node.cat(cid.toString(), 0, -1)));
            assertArrayEquals(want, readAll(node.catUnverified(cid.toString(), 0, -1)));
            assertArrayEquals(slice(want, 1, 100), readAll(node.cat(cid.toString(), 1, 100)));
            assertTrue(node.fsck().clean());
        }
    }

    @Test
    void catUnverified_anyRange_returnsTheSameBytesAsCat() throws IOException {
        long size = 4L * CHUNK + 17;
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Cid cid = node.add(TestBytes.of(51, size)).cid();
            node.filesCp("/ipfs/" + cid, "/d/f");
            Cid dirCid = node.filesStat("/d").orElseThrow().cid();
            byte[] want = TestBytes.of(51, size).readAllBytes();
            long[][] ranges = {{0, -1}, {0, 1}, {CHUNK - 1, 2}, {CHUNK, CHUNK}, {3L * CHUNK + 5, -1}, {size, -1},
                {size + 5, 10}, {7, 0}};
            for (long[] range : ranges) {
                String what = "offset " + range[0] + " length " + range[1];
                byte[] verified = readAll(node.cat(cid.toString(), range[0], range[1]));
                assertArrayEquals(slice(want, range[0], range[1]), verified, what);
                assertArrayEquals(verified, readAll(node.catUnverified(cid.toString(), range[0], range[1])), what);
                assertArrayEquals(verified, readAll(node.catUnverified("/ipfs/" + dirCid + "/f", range[0], range[1])),
                        "through a directory, " + what);
            }
        }
    }

    // ---- helpers

    private Path blobsDir() {
        return (storeDir != null ? storeDir : dir.resolve("node")).resolve("blobs");
    }

    /** The Blockstore's directory once a test opened one; the tests that use a node keep theirs in dir/node. */
    private Path storeDir;

    private Blockstore openStore() throws IOException {
        storeDir = dir.resolve("store");
        return Blockstore.open(storeDir);
    }

    private BlobFiles.DataFile importBytes(Blockstore store, byte[] content) throws IOException {
        Cid root;
        try (BlobFileWriter writer = store.newImport(threads)) {
            root = Importer.importFile(writer, new ByteArrayInputStream(content)).cid();
        }
        assertEquals(Cid.DAG_PB, root.codec());
        return store.blobs().byRoot(root.sha256Digest()).orElseThrow();
    }

    /** Commits a blob file whose leaves have these (made up) digests: a sparse file, never read. */
    private BlobFiles.DataFile fakeCommit(BlobFiles blobs, byte[] digests) throws IOException {
        int leaves = digests.length / 32;
        long length = (leaves - 1L) * CHUNK + 1;
        Path temp = Files.createTempFile(blobsDir().resolve(".tmp"), "fake", ".data");
        try (RandomAccessFile file = new RandomAccessFile(temp.toFile(), "rw")) {
            file.setLength(length);
        }
        return blobs.commit(Importer.rootOf(digests, length).sha256Digest(), temp, length, digests.clone());
    }

    private static byte[] randomDigests(Random random, int leaves) {
        byte[] digests = new byte[32 * leaves];
        random.nextBytes(digests);
        return digests;
    }

    private static byte[] fullChunk(BlobFileWriter writer, byte value) throws IOException {
        byte[] chunk = writer.chunkBuffer();
        Arrays.fill(chunk, value);
        return chunk;
    }

    private static List<String> collect(BlobFiles blobs, BlobFiles.DataFile file) throws IOException {
        List<String> corrupt = new ArrayList<>();
        blobs.verifyLeaves(file, digest -> corrupt.add(HEX.formatHex(digest)));
        return corrupt;
    }

    private static List<Long> candidates(LeafIndex index, byte[] digest) {
        List<Long> found = new ArrayList<>();
        index.find(digest, (file, leaf) -> {
            found.add(location(file, leaf));
            return false;
        });
        return found;
    }

    private static long location(int file, int leaf) {
        return ((long) file << 32) | leaf;
    }

    private Set<Path> listBlobs() throws IOException {
        try (Stream<Path> files = Files.list(blobsDir())) {
            return new HashSet<>(files.filter(Files::isRegularFile) // not the repack marker
                    .filter(f -> !f.getFileName().toString().startsWith(".")).toList());
        }
    }

    private static long countFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.count();
        }
    }

    private static byte[] bytes(long seed, long length) throws IOException {
        return TestBytes.of(seed, length).readAllBytes();
    }

    /** The bytes cat(offset, length) gives: -1 is to the end; a range past the end is cut there. */
    private static byte[] slice(byte[] content, long offset, long length) {
        int from = (int) Math.min(offset, content.length);
        int to = length < 0 ? content.length : (int) Math.min(content.length, from + length);
        return Arrays.copyOfRange(content, from, to);
    }

    private static byte[] readAll(InputStream stream) throws IOException {
        try (InputStream in = stream) {
            return in.readAllBytes();
        }
    }

    /** Reads with reads of odd sizes, and single bytes, to cross leaf boundaries inside a read. */
    private static byte[] readInPieces(InputStream stream) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (InputStream in = stream) {
            byte[] buffer = new byte[100_003];
            for (int round = 0; ; round++) {
                if (round % 3 == 0) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    out.write(b);
                    continue;
                }
                int n = in.read(buffer, 0, buffer.length);
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static void flipByteAt(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, position);
        }
    }

    private static void truncate(Path file, long length) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(length);
        }
    }
}
