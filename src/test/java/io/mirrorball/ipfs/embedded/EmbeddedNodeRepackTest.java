package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.UnixFs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** repack: data directories of the layout before blob files are moved into blob files, losing nothing. */
final class EmbeddedNodeRepackTest {
    private static final int CHUNK = Importer.CHUNK;

    @TempDir
    Path dir;

    /** A file added to the node, and how to produce its content again. */
    private record Content(long seed, long size, boolean zeros) {
        InputStream open() {
            return zeros ? new ByteArrayInputStream(new byte[(int) size]) : TestBytes.of(seed, size);
        }
    }

    /**
     * Adds: /a (4 leaves), /b (176 leaves: two levels of nodes), /small (one raw leaf), /z1 and a
     * pinned z2, both of zeros, which share their first leaf. Returns the content by CID.
     */
    private static Map<Cid, Content> addFiles(EmbeddedNode node) throws IOException {
        Map<Cid, Content> files = new LinkedHashMap<>();
        Content a = new Content(1, 3L * CHUNK + 7, false);
        Content b = new Content(2, 175L * CHUNK + 5, false);
        Content small = new Content(3, 100, false);
        Content z1 = new Content(0, 3L * CHUNK + 1, true);
        Content z2 = new Content(0, 2L * CHUNK + 7, true);
        for (Map.Entry<String, Content> file : Map.of("/a", a, "/b", b, "/small", small, "/z1", z1).entrySet()) {
            Cid cid;
            try (InputStream in = file.getValue().open()) {
                cid = node.add(in).cid();
            }
            node.filesCp("/ipfs/" + cid, file.getKey());
            files.put(cid, file.getValue());
        }
        Cid pinned;
        try (InputStream in = z2.open()) {
            pinned = node.add(in).cid();
        }
        node.pinAdd(pinned);
        files.put(pinned, z2);
        return files;
    }

    private static void assertAllReadBack(EmbeddedNode node, Map<Cid, Content> files, String when) throws IOException {
        for (Map.Entry<Cid, Content> file : files.entrySet()) {
            try (InputStream in = node.cat(file.getKey().toString(), 0, -1); InputStream want = file.getValue().open()) {
                assertArrayEquals(sha256(want), sha256(in), when + ": content of " + file.getKey());
            }
        }
        FsckReport report = node.fsck();
        assertTrue(report.clean(), when + ": " + report);
    }

    private static byte[] sha256(InputStream in) throws IOException {
        MessageDigest sha256 = BlobFiles.newSha256();
        byte[] buffer = new byte[65536];
        for (int n; (n = in.read(buffer)) > 0; ) {
            sha256.update(buffer, 0, n);
        }
        return sha256.digest();
    }

    private static long leafFiles(Path store, List<Path> indexes) throws IOException {
        long count = 0;
        for (Path index : indexes) {
            for (byte[] digest : OlderLayout.leafDigests(index)) {
                count += Files.exists(OlderLayout.blockFile(store, digest)) ? 1 : 0;
            }
        }
        return count;
    }

    @Test
    void repack_ofOlderLayout_movesEveryLeafIntoBlobFiles() throws IOException {
        Path store = dir.resolve("node");
        Map<Cid, Content> files;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            files = addFiles(node);
        }
        OlderLayout.convertAll(store);
        assertEquals(List.of(), OlderLayout.indexes(store));

        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertFalse(Files.exists(store.resolve("blobs").resolve(EmbeddedNode.REPACKED_MARKER)),
                    "an older layout is not marked as repacked at open");
            assertAllReadBack(node, files, "older layout");

            RepackReport report = node.repack();

            long leafBytes = 3L * CHUNK + 7 + 175L * CHUNK + 5 + CHUNK + 1 + 7; // z1 and z2 share the zero chunk
            assertEquals(new RepackReport(4, 4 + 176 + 2 + 1, leafBytes), report);
            List<Path> indexes = OlderLayout.indexes(store);
            assertEquals(4, indexes.size(), "one blob file per multi-chunk file: " + indexes);
            for (Path index : indexes) {
                assertTrue(Files.size(OlderLayout.dataOf(index)) > 2L * CHUNK, index.toString());
            }
            assertEquals(0, leafFiles(store, indexes), "leaf block files left after repack");
            assertTrue(Files.exists(store.resolve("blobs").resolve(EmbeddedNode.REPACKED_MARKER)));
            assertAllReadBack(node, files, "after repack");
            assertEquals(new RepackReport(0, 0, 0), node.repack(), "a second repack");
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertAllReadBack(node, files, "after reopen");
            assertEquals(files.keySet().stream().toList().subList(0, 4).stream().sorted(
                    java.util.Comparator.comparing(Cid::toString)).toList(), node.filesLs("/").stream()
                    .map(entry -> entry.cid()).sorted(java.util.Comparator.comparing(Cid::toString)).toList());
        }
    }

    @Test
    void repack_cutShortAtEachStep_losesNothingAndTheNextRunFinishes() throws IOException {
        Path store = dir.resolve("node");
        Map<Cid, Content> files;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            files = addFiles(node);
        }
        List<Path> indexes = OlderLayout.indexes(store);
        assertEquals(4, indexes.size());
        // blob file committed and synced, no leaf file deleted yet
        OlderLayout.writeLeaves(store, indexes.get(0), Integer.MAX_VALUE);
        // blob file durable, leaf files half deleted
        OlderLayout.writeLeaves(store, indexes.get(1), OlderLayout.leafDigests(indexes.get(1)).size() / 2);
        // data file renamed into place, its index not yet
        OlderLayout.writeLeaves(store, indexes.get(2), Integer.MAX_VALUE);
        Files.delete(indexes.get(2));
        // cut short while the temp data file was written
        OlderLayout.writeLeaves(store, indexes.get(3), Integer.MAX_VALUE);
        Files.copy(OlderLayout.dataOf(indexes.get(3)), store.resolve("blobs").resolve(".tmp").resolve("1.data"));
        OlderLayout.removeBlobFile(indexes.get(3));
        Files.delete(store.resolve("blobs").resolve(EmbeddedNode.REPACKED_MARKER));

        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertFalse(Files.exists(OlderLayout.dataOf(indexes.get(2))), "data file without an index is dropped at open");
            assertAllReadBack(node, files, "after the interruption");

            RepackReport report = node.repack();

            assertEquals(2, report.filesConverted(), report.toString());
            assertEquals(4, OlderLayout.indexes(store).size());
            assertEquals(0, leafFiles(store, OlderLayout.indexes(store)), "leaf block files left after repack");
            assertAllReadBack(node, files, "after repack");
        }
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertAllReadBack(node, files, "after reopen");
        }
    }

    @Test
    void repack_ofCorruptBlobFileLeftByACutShortRun_keepsTheLeafFiles() throws IOException {
        Path store = dir.resolve("node");
        Cid cid;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            cid = node.add(TestBytes.of(9, 5L * CHUNK)).cid();
            node.filesCp("/ipfs/" + cid, "/f");
        }
        Path index = OlderLayout.indexes(store).get(0);
        List<byte[]> leaves = OlderLayout.writeLeaves(store, index, Integer.MAX_VALUE);
        try (var data = java.nio.channels.FileChannel.open(OlderLayout.dataOf(index),
                java.nio.file.StandardOpenOption.WRITE)) {
            data.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 3L * CHUNK + 10); // as a torn write would
        }

        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            node.repack();

            try (InputStream want = TestBytes.of(9, 5L * CHUNK)) {
                for (byte[] leaf : leaves) {
                    assertTrue(Files.exists(OlderLayout.blockFile(store, leaf)), "a sound leaf file was deleted");
                    assertArrayEquals(want.readNBytes(CHUNK), node.blockGet(Cid.sha256(Cid.RAW, leaf)),
                            "every leaf still reads back, the damaged one from its block file");
                }
            }
        }
    }

    @Test
    void repack_ofOtherLayout_leavesItAsItIs() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            // a file of three 1000-byte leaves (another chunker): not an import of this node
            List<DagPb.Link> links = new ArrayList<>();
            long[] sizes = new long[3];
            for (int i = 0; i < 3; i++) {
                byte[] leaf = new byte[1000];
                java.util.Arrays.fill(leaf, (byte) i);
                links.add(new DagPb.Link("", node.blockPut(leaf, Cid.RAW), 1000));
                sizes[i] = 1000;
            }
            Cid root = node.blockPut(DagPb.encodeNode(UnixFs.fileData(sizes, 3), links), Cid.DAG_PB);
            node.pinAdd(root);

            RepackReport report = node.repack();

            assertEquals(new RepackReport(0, 0, 0), report);
            assertEquals(List.of(), OlderLayout.indexes(store));
            for (DagPb.Link link : links) {
                assertTrue(Files.exists(OlderLayout.blockFile(store, link.cid().sha256Digest())));
            }
            try (InputStream in = node.cat(root.toString(), 0, -1)) {
                assertEquals(3000, in.readAllBytes().length);
            }
            assertTrue(node.fsck().clean());
        }
    }

    @Test
    void open_ofEmptyDirectory_marksItRepacked() throws IOException {
        Path store = dir.resolve("node");
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            assertTrue(Files.exists(store.resolve("blobs").resolve(EmbeddedNode.REPACKED_MARKER)));
        }
    }
}
