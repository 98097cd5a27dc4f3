package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gc: what neither MFS nor a pin reaches is removed from disk; everything else survives, also a reopen. */
final class EmbeddedNodeGcTest {
    private static final int CHUNK = Importer.CHUNK;

    @TempDir
    Path dir;

    private static byte[] sha256(InputStream in) throws IOException {
        MessageDigest sha256 = BlobFiles.newSha256();
        byte[] buffer = new byte[65536];
        for (int n; (n = in.read(buffer)) > 0; ) {
            sha256.update(buffer, 0, n);
        }
        return sha256.digest();
    }

    private static void assertCat(EmbeddedNode node, Cid cid, long seed, long size) throws IOException {
        try (InputStream in = node.cat(cid.toString(), 0, -1); InputStream want = TestBytes.of(seed, size)) {
            assertArrayEquals(sha256(want), sha256(in), "content of " + cid);
        }
    }

    private static Path blobData(Path store, Cid root) {
        return store.resolve("blobs").resolve(HexFormat.of().formatHex(root.sha256Digest()) + ".data");
    }

    @Test
    void gc_afterFilesRmOfBigFile_removesItsBlobFileAndFreesTheBytes() throws IOException {
        Path store = dir.resolve("node");
        long size = 12L * CHUNK + 3;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            Cid big = node.add(TestBytes.of(1, size)).cid();
            node.filesCp("/ipfs/" + big, "/big");
            assertTrue(Files.exists(blobData(store, big)));
            node.filesRm("/big");

            GcReport report = node.gc(Duration.ZERO);

            assertEquals(1, report.blobFilesRemoved(), report.toString());
            assertTrue(report.blockFilesRemoved() >= 2, "the file's root node and the old MFS root: " + report);
            assertTrue(report.bytesFreed() > size, report.toString());
            assertFalse(Files.exists(blobData(store, big)));
            assertEquals(List.of(), OlderLayout.indexes(store));
            assertThrows(IpfsNotFoundException.class, () -> node.cat(big.toString(), 0, -1).close());
            assertTrue(node.fsck().clean());
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertTrue(node.fsck().clean());
        }
    }

    @Test
    void gc_keepsPinnedAndMfsReachableContent() throws IOException {
        Path store = dir.resolve("node");
        Cid inMfs;
        Cid pinned;
        Cid small;
        Cid garbage;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            inMfs = node.add(TestBytes.of(1, 5L * CHUNK + 1)).cid();
            pinned = node.add(TestBytes.of(2, 3L * CHUNK)).cid();
            small = node.add(TestBytes.of(3, 1000)).cid();
            garbage = node.add(TestBytes.of(4, 4L * CHUNK)).cid();
            node.filesMkdir("/deep/er");
            node.filesCp("/ipfs/" + inMfs, "/deep/er/file");
            node.filesCp("/ipfs/" + small, "/small");
            node.filesWrite("/written", "written through MFS".getBytes(StandardCharsets.UTF_8));
            node.pinAdd(pinned);

            GcReport report = node.gc(Duration.ZERO);

            assertEquals(1, report.blobFilesRemoved(), report.toString());
            assertFalse(Files.exists(blobData(store, garbage)));
            assertCat(node, inMfs, 1, 5L * CHUNK + 1);
            assertCat(node, pinned, 2, 3L * CHUNK);
            assertCat(node, small, 3, 1000);
            assertTrue(node.fsck().clean());
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertCat(node, inMfs, 1, 5L * CHUNK + 1);
            assertCat(node, pinned, 2, 3L * CHUNK);
            assertCat(node, small, 3, 1000);
            try (InputStream in = node.filesRead("/written", 0, -1)) {
                assertEquals("written through MFS", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            assertThrows(IpfsNotFoundException.class, () -> node.cat(garbage.toString(), 0, -1).close());
            assertTrue(node.fsck().clean());
            assertEquals(new GcReport(0, 0, 0), node.gc(Duration.ZERO), "nothing left to collect");
        }
    }

    @Test
    void gc_ofUnreferencedAdd_keepsItWithinGraceAndRemovesItWithout() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Cid big = node.add(TestBytes.of(1, 3L * CHUNK)).cid();
            Cid small = node.add(TestBytes.of(2, 500)).cid();

            GcReport kept = node.gc(Duration.ofMinutes(10));

            assertEquals(0, kept.blobFilesRemoved(), kept.toString());
            assertCat(node, big, 1, 3L * CHUNK);
            assertCat(node, small, 2, 500);
            node.filesCp("/ipfs/" + small, "/small"); // linked after gc: still there to link

            GcReport removed = node.gc(Duration.ZERO);

            assertEquals(1, removed.blobFilesRemoved(), removed.toString());
            assertThrows(IpfsNotFoundException.class, () -> node.cat(big.toString(), 0, -1).close());
            assertCat(node, small, 2, 500);
            assertTrue(node.fsck().clean());
        }
    }

    @Test
    void gc_ofAddStoredAgain_keepsItWithinGrace() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Cid small = node.add(TestBytes.of(2, 500)).cid();
            Path file = OlderLayout.blockFile(dir.resolve("node"), small.sha256Digest());
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(0)); // added long ago
            assertEquals(small, node.add(TestBytes.of(2, 500)).cid()); // the same bytes again, just now

            GcReport report = node.gc(Duration.ofMinutes(10));

            assertTrue(Files.exists(file), report.toString());
            assertCat(node, small, 2, 500);
        }
    }

    @Test
    void gc_duringSlowImport_keepsTheNodesItWroteLongAgo() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            java.util.Set<Path> before = blockFiles(store);
            IpfsNode.StreamingAdd add = node.startAdd().orElseThrow();
            long size = 175L * CHUNK + 9; // the first 174 leaves get their parent node before the end
            byte[] buffer = new byte[CHUNK];
            try (InputStream in = TestBytes.of(5, size)) {
                for (int n; (n = in.readNBytes(buffer, 0, buffer.length)) > 0; ) {
                    add.write(buffer, 0, n);
                    if (n == 9) {
                        break;
                    }
                }
                java.util.Set<Path> written = blockFiles(store);
                written.removeAll(before);
                // an importer that writes parent nodes as it goes has written the first one by now
                for (Path file : written) {
                    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(0)); // written long ago
                }

                node.gc(Duration.ofMinutes(10));

                for (Path file : written) {
                    assertTrue(Files.exists(file), "node of the import in progress removed: " + file);
                }
                Cid cid = add.finish().cid();
                node.gc(Duration.ofMinutes(10)); // finished, not linked yet: every node is young again
                node.filesCp("/ipfs/" + cid, "/slow");
                assertCat(node, cid, 5, size);
                assertTrue(node.fsck().clean());
            }
        }
    }

    private static java.util.Set<Path> blockFiles(Path store) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(store.resolve("blocks"))) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getParent().getFileName().toString().equals(".tmp"))
                    .collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
        }
    }

    @Test
    void gc_keepsBlobFileWithALeafReachableThroughAnotherDag() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            Cid zeros = node.add(new ByteArrayInputStream(new byte[3 * CHUNK + 1])).cid();
            Cid chunk = node.add(new ByteArrayInputStream(new byte[CHUNK])).cid(); // a leaf of zeros' blob file
            assertEquals(Cid.RAW, chunk.codec());
            assertFalse(Files.exists(OlderLayout.blockFile(store, chunk.sha256Digest())),
                    "the chunk is stored once, in the blob file");
            node.filesCp("/ipfs/" + chunk, "/chunk");

            GcReport report = node.gc(Duration.ZERO);

            assertEquals(0, report.blobFilesRemoved(), report.toString());
            assertEquals(2, report.blockFilesRemoved(), "the unreferenced file's root node and the first MFS root: "
                    + report);
            assertFalse(Files.exists(OlderLayout.blockFile(store, zeros.sha256Digest())));
            assertTrue(Files.exists(blobData(store, zeros)));
            try (InputStream in = node.filesRead("/chunk", 0, -1)) {
                assertArrayEquals(new byte[CHUNK], in.readAllBytes());
            }
            assertTrue(node.fsck().clean());

            node.filesRm("/chunk");
            assertEquals(1, node.gc(Duration.ZERO).blobFilesRemoved());
            assertFalse(Files.exists(blobData(store, zeros)));
        }
    }

    @Test
    void gc_ofJournaledMfsBlocks_reopenReplaysTheLogAndFsckIsClean() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            for (int i = 0; i < 20; i++) {
                node.filesMkdir("/dir" + i + "/sub");
                node.filesWrite("/dir" + i + "/sub/file", ("file " + i).getBytes(StandardCharsets.UTF_8));
                if (i % 2 == 1) {
                    node.filesRm("/dir" + (i - 1));
                }
            }

            GcReport report = node.gc(Duration.ZERO);

            assertTrue(report.blockFilesRemoved() >= 20, "old roots and removed directories: " + report);
            assertTrue(node.fsck().clean());
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertTrue(node.fsck().clean());
            for (int i = 1; i < 20; i += 2) {
                try (InputStream in = node.filesRead("/dir" + i + "/sub/file", 0, -1)) {
                    assertEquals("file " + i, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            assertEquals(10, node.filesLs("/").size());
        }
    }

    @Test
    void gc_concurrentWithMfsWrites_losesNothingLinked() throws Exception {
        Path store = dir.resolve("node");
        int writes = 60;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong removed = new java.util.concurrent.atomic.AtomicLong();
            Thread collector = new Thread(() -> {
                try {
                    while (!done.get()) {
                        removed.addAndGet(node.gc(Duration.ZERO).blockFilesRemoved());
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "gc-test-collector");
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            collector.setUncaughtExceptionHandler((thread, e) -> failures.add(e));
            collector.start();
            try {
                for (int i = 0; i < writes; i++) {
                    node.filesWrite("/d" + (i % 7) + "/f" + i, ("content " + i).getBytes(StandardCharsets.UTF_8));
                    if (i % 3 == 2) {
                        node.filesRm("/d" + ((i - 2) % 7) + "/f" + (i - 2));
                    }
                }
            } finally {
                done.set(true);
                collector.join();
            }
            assertEquals(List.of(), failures);
            assertTrue(removed.get() > 0, "gc removed nothing while MFS changed");
            assertTrue(node.fsck().clean());
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertTrue(node.fsck().clean());
            for (int i = 0; i < writes; i++) {
                java.util.Optional<IpfsNode.FileStat> stat = node.filesStat("/d" + (i % 7) + "/f" + i);
                assertEquals(i % 3 != 0, stat.isPresent(), "file " + i);
                if (stat.isPresent()) {
                    try (InputStream in = node.filesRead("/d" + (i % 7) + "/f" + i, 0, -1)) {
                        assertEquals("content " + i, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
    }

    @Test
    void gc_withMissingReachableNode_removesNothing() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            Cid linked = node.add(TestBytes.of(1, 3L * CHUNK)).cid();
            Cid garbage = node.add(TestBytes.of(2, 3L * CHUNK)).cid();
            node.filesCp("/ipfs/" + linked, "/linked");
            Files.delete(OlderLayout.blockFile(store, linked.sha256Digest()));

            IpfsException e = assertThrows(IpfsException.class, () -> node.gc(Duration.ZERO));

            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(e.getMessage().contains(linked.toString()), e.getMessage());
            assertTrue(Files.exists(blobData(store, linked)));
            assertCat(node, garbage, 2, 3L * CHUNK);
        }
    }

    @Test
    void filesCp_ofContentThatGcRemoved_failsAndLeavesMfsClean() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Cid big = node.add(TestBytes.of(1, 3L * CHUNK)).cid();
            node.filesCp("/ipfs/" + big, "/big"); // its root node is now in MFS's node cache
            node.filesRm("/big");
            assertEquals(1, node.gc(Duration.ZERO).blobFilesRemoved());

            assertThrows(IpfsNotFoundException.class, () -> node.filesCp("/ipfs/" + big, "/again"));

            assertTrue(node.filesStat("/again").isEmpty());
            assertTrue(node.fsck().clean());
        }
    }
}
