package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodeContract;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.UnixFs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The IpfsNode contract on EmbeddedNode, plus its own behaviour: persistence, locking, fsck, CAR checks. */
final class EmbeddedNodeTest extends IpfsNodeContract {
    @TempDir
    Path dir;

    private EmbeddedNode node;

    /** Closes the node after every @AfterEach (the contract's included, which still uses it). */
    @RegisterExtension
    final AfterEachCallback closeNode = context -> {
        if (node != null) {
            node.close();
        }
    };

    @Override
    protected IpfsNode node() {
        return embedded();
    }

    @Override
    protected boolean pinnedRecursively(Cid cid) {
        return embedded().pins().contains(cid);
    }

    private EmbeddedNode embedded() {
        if (node == null) {
            try {
                node = EmbeddedNode.open(dir.resolve("node"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return node;
    }

    @ParameterizedTest(name = "size {0} offset {1} length {2}")
    @CsvSource({
        "0, 0, -1", "1, 0, -1", "1, 1, -1", "100, 10, 20", "262144, 262143, -1", "262145, 262143, 2",
        "786439, 0, -1", "786439, 262140, 262150", "786439, 786438, 100", "786439, 786439, -1",
        "786439, 900000, -1", "45875200, 45613055, 262146", "45875201, 45875200, 5"})
    void cat_rangeOfFileSizes_returnsThoseBytes(long size, long offset, long length) throws IOException {
        Cid cid = embedded().add(TestBytes.of(size, size)).cid();
        long end = length < 0 ? size : Math.min(size, offset + length);
        long expected = Math.max(0, end - Math.max(0, Math.min(offset, size)));
        byte[] want;
        try (InputStream all = TestBytes.of(size, size)) {
            all.skipNBytes(Math.min(offset, size));
            want = all.readNBytes((int) expected);
        }

        try (InputStream in = embedded().cat(cid.toString(), offset, length)) {
            assertArrayEquals(want, in.readAllBytes());
        }
    }

    @Test
    void cat_wholeMultiLevelFile_streamsEveryByte() throws Exception {
        long size = 175L * CHUNK + 3;
        Cid cid = embedded().add(TestBytes.of(9, size)).cid();
        java.security.MessageDigest expected = java.security.MessageDigest.getInstance("SHA-256");
        java.security.MessageDigest actual = java.security.MessageDigest.getInstance("SHA-256");
        try (InputStream want = TestBytes.of(9, size)) {
            want.transferTo(new java.security.DigestOutputStream(OutputStreamNull.INSTANCE, expected));
        }
        try (InputStream in = embedded().cat("/ipfs/" + cid, 0, -1)) {
            assertEquals(size, in.transferTo(new java.security.DigestOutputStream(OutputStreamNull.INSTANCE, actual)));
        }
        assertArrayEquals(expected.digest(), actual.digest());
    }

    @Test
    void cat_pathThroughDirectories_readsRangeAndRefusesDirectory() throws IOException {
        embedded().filesWrite("/d/sub/f", "hello".getBytes(StandardCharsets.UTF_8));
        Cid d = embedded().filesFlush("/d");
        try (InputStream in = embedded().cat(d + "/sub/f", 1, 3)) {
            assertEquals("ell", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertThrows(IpfsNotFoundException.class, () -> embedded().cat(d + "/sub/nope", 0, -1));
        IpfsException directory = assertThrows(IpfsException.class, () -> embedded().cat(d + "/sub", 0, -1));
        assertTrue(directory.getMessage().contains("directory"), directory.getMessage());
    }

    @Test
    void cat_unknownCid_isNotFound() {
        Cid absent = Cid.sha256(Cid.RAW, new byte[32]);
        assertThrows(IpfsNotFoundException.class, () -> embedded().cat(absent.toString(), 0, -1));
    }

    @Test
    void blockPut_thenGetAndStat_roundTrips() throws IOException {
        byte[] block = "raw block".getBytes(StandardCharsets.UTF_8);
        Cid cid = embedded().blockPut(block, Cid.RAW);

        assertEquals("bafkrei", cid.toString().substring(0, 7));
        assertArrayEquals(block, embedded().blockGet(cid));
        assertEquals(block.length, embedded().blockStat(cid).orElseThrow());
        assertTrue(embedded().blockStat(Cid.sha256(Cid.RAW, new byte[32])).isEmpty());
    }

    @Test
    void blockPut_invalidDagPbOrTooBig_fails() {
        assertThrows(IpfsException.class, () -> embedded().blockPut(new byte[] {0x0a, 0x05, 0x01}, Cid.DAG_PB));
        assertThrows(IpfsException.class, () -> embedded().blockPut(new byte[1024 * 1024 + 1], Cid.RAW));
    }

    @Test
    void blockGet_corruptFileOnDisk_isCorrupt() throws IOException {
        Cid cid = embedded().blockPut("precious".getBytes(StandardCharsets.UTF_8), Cid.RAW);
        Files.writeString(blockFile(cid), "tampered");

        IpfsException e = assertThrows(IpfsException.class, () -> embedded().blockGet(cid));
        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
    }

    @Test
    void files_writeReadStatLs_behaveAsKubo() throws IOException {
        embedded().filesWrite("/a/b/link", "sha256:abc".getBytes(StandardCharsets.UTF_8));
        embedded().filesMkdir("/a/empty");
        embedded().filesMkdir("/a/empty");

        try (InputStream in = embedded().filesRead("/a/b/link", 7, -1)) {
            assertEquals("abc", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        IpfsNode.FileStat file = embedded().filesStat("/a/b/link").orElseThrow();
        assertEquals(10, file.size());
        assertFalse(file.directory());
        IpfsNode.FileStat a = embedded().filesStat("/a").orElseThrow();
        assertTrue(a.directory());
        assertEquals(0, a.size());
        assertTrue(embedded().filesStat("/a/nope").isEmpty());
        assertEquals(List.of(new IpfsNode.FileEntry("b", embedded().filesStat("/a/b").orElseThrow().cid(), 0, true),
                new IpfsNode.FileEntry("empty", UnixFs.cidOf(UnixFs.emptyDirectoryBlock()), 0, true)),
                embedded().filesLs("/a"));
        assertThrows(IpfsNotFoundException.class, () -> embedded().filesLs("/nope"));
        assertThrows(IpfsException.class, () -> embedded().filesMkdir("/a/b/link"));
        assertThrows(IpfsException.class, () -> embedded().filesWrite("/a/b", new byte[1]));
    }

    @Test
    void filesWrite_existingFile_replacesIt() throws IOException {
        embedded().filesWrite("/f", "first version".getBytes(StandardCharsets.UTF_8));
        embedded().filesWrite("/f", "2nd".getBytes(StandardCharsets.UTF_8));
        try (InputStream in = embedded().filesRead("/f", 0, -1)) {
            assertEquals("2nd", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void filesCp_fromIpfsAndMfs_createsParentsAndRefusesExisting() throws IOException {
        Cid cid = embedded().add(TestBytes.of(3, 600_000)).cid();
        embedded().filesCp("/ipfs/" + cid, "/blobs/sha256/ab/abcd/data");
        embedded().filesCp("/blobs", "/copy/blobs");

        assertEquals(cid, embedded().filesStat("/copy/blobs/sha256/ab/abcd/data").orElseThrow().cid());
        assertEquals(600_000, embedded().filesStat("/blobs/sha256/ab/abcd/data").orElseThrow().size());
        assertThrows(IpfsException.class, () -> embedded().filesCp("/ipfs/" + cid, "/blobs/sha256/ab/abcd/data"));
        assertThrows(IpfsNotFoundException.class, () -> embedded().filesCp("/nope", "/x"));
        assertThrows(IpfsNotFoundException.class,
                () -> embedded().filesCp("/ipfs/" + Cid.sha256(Cid.RAW, new byte[32]), "/x"));
    }

    @Test
    void filesCp_multiBlockFile_linkTsizeIsCumulativeAsInKubo() throws IOException {
        Cid cid = embedded().add(TestBytes.of(4, 600_000)).cid();
        embedded().filesCp("/ipfs/" + cid, "/x/sub/f");

        long fileTotal = UnixFs.cumulativeSize(embedded().blockGet(cid));
        DagPb.Decoded sub = DagPb.decode(embedded().blockGet(embedded().filesFlush("/x/sub")));
        assertEquals(List.of(new DagPb.Link("f", cid, fileTotal)), sub.links());
        assertTrue(fileTotal > 600_000);
        DagPb.Decoded x = DagPb.decode(embedded().blockGet(embedded().filesFlush("/x")));
        assertEquals(embedded().filesStat("/x/sub").orElseThrow().cumulativeSize(), x.links().get(0).size());
        assertEquals(embedded().filesStat("/x").orElseThrow().cumulativeSize(),
                embedded().blockGet(embedded().filesFlush("/x")).length + x.links().get(0).size());
    }

    @Test
    void filesMv_movesAndRefusesExistingOrIntoItself() throws IOException {
        embedded().filesWrite("/r/a/f", new byte[] {1});
        embedded().filesWrite("/r/b", new byte[] {2});
        embedded().filesMv("/r/a", "/r/c");

        assertTrue(embedded().filesStat("/r/a").isEmpty());
        assertTrue(embedded().filesStat("/r/c/f").isPresent());
        assertThrows(IpfsException.class, () -> embedded().filesMv("/r/c", "/r/b"));
        assertThrows(IpfsException.class, () -> embedded().filesMv("/r/c", "/r/c/inside"));
        assertThrows(IpfsNotFoundException.class, () -> embedded().filesMv("/r/nope", "/r/d"));
        assertThrows(IpfsNotFoundException.class, () -> embedded().filesMv("/r/b", "/missing/parent/b"));
    }

    @Test
    void filesRm_recursiveAndMissingIsFine() throws IOException {
        embedded().filesWrite("/t/x/y", new byte[] {1});
        embedded().filesRm("/t/x");
        embedded().filesRm("/t/never");

        assertEquals(List.of(), embedded().filesLs("/t"));
        assertThrows(IpfsException.class, () -> embedded().filesRm("/"));
    }

    @Test
    void filesFlush_root_isTheEmptyDirectoryOnAFreshNode() throws IOException {
        try (EmbeddedNode fresh = EmbeddedNode.open(dir.resolve("fresh"))) {
            assertEquals(Cid.parse(EMPTY_DIRECTORY_CID), fresh.filesFlush("/"));
            assertThrows(IpfsNotFoundException.class, () -> fresh.filesFlush("/nope"));
        }
    }

    @Test
    void reopen_keepsCommittedMfsAndPins() throws IOException {
        Cid cid = embedded().add(TestBytes.of(5, 2 * CHUNK + 1)).cid();
        embedded().filesCp("/ipfs/" + cid, "/keep/data");
        embedded().pinAdd(cid);
        Cid root = embedded().filesFlush("/");
        embedded().close();

        node = EmbeddedNode.open(dir.resolve("node"));
        assertEquals(root, embedded().filesFlush("/"));
        assertEquals(List.of(cid), embedded().pins());
        assertEquals(cid, embedded().filesStat("/keep/data").orElseThrow().cid());
        embedded().pinRm(cid);
        embedded().pinRm(cid);
        assertEquals(List.of(), embedded().pins());
    }

    @Test
    void reopen_commitLogWithTornTail_keepsLastCompleteCommitAndAppendsAfterIt() throws IOException {
        embedded().filesWrite("/kept", "kept".getBytes(StandardCharsets.UTF_8));
        Cid committed = embedded().filesFlush("/");
        embedded().close();
        Path log = dir.resolve("node/mfs-log");
        long length = Files.size(log);
        // a commit cut short by a crash: a record header promising more bytes than follow
        Files.write(log, new byte[] {0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7}, java.nio.file.StandardOpenOption.APPEND);

        node = EmbeddedNode.open(dir.resolve("node"));
        assertEquals(committed, embedded().filesFlush("/"));
        assertEquals(length, Files.size(log));
        embedded().filesWrite("/after", new byte[] {1});
        embedded().close();
        node = EmbeddedNode.open(dir.resolve("node"));
        assertTrue(embedded().filesStat("/after").isPresent());
        assertTrue(embedded().filesStat("/kept").isPresent());
        assertTrue(embedded().fsck().clean());
    }

    @Test
    void reopen_directoryBlocksLostFromDisk_areRestoredFromTheCommitLog() throws IOException {
        embedded().filesWrite("/deep/er/file", "x".getBytes(StandardCharsets.UTF_8));
        Cid deep = embedded().filesFlush("/deep");
        embedded().close();
        Files.delete(blockFile(deep)); // as if the unsynced block file was lost in a power cut

        node = EmbeddedNode.open(dir.resolve("node"));
        assertTrue(embedded().fsck().clean(), embedded().fsck().toString());
        assertEquals("x", readMfs("/deep/er/file", 0, -1));
    }

    @Test
    void commitLog_pastCheckpointSize_isCompactedAndStaysConsistent() throws IOException {
        Path log = dir.resolve("node/mfs-log");
        byte[] content = new byte[200_000];
        long largest = 0;
        int i = 0;
        while (Files.size(log) >= largest) { // grows until the checkpoint replaces it
            largest = Files.size(log);
            content[0] = (byte) i;
            content[1] = (byte) (i >> 8);
            embedded().filesWrite("/many/f" + i++, content);
            assertTrue(i < 200, "the log never shrank: " + Files.size(log));
        }
        assertTrue(largest > RootLog.CHECKPOINT_BYTES - 300_000, "checkpoint at " + largest);
        assertTrue(Files.size(log) < 1000, "compacted log of " + Files.size(log) + " bytes");
        Cid root = embedded().filesFlush("/");
        embedded().close();

        node = EmbeddedNode.open(dir.resolve("node"));
        assertEquals(root, embedded().filesFlush("/"));
        assertEquals(i, embedded().filesLs("/many").size());
        assertTrue(embedded().fsck().clean());
    }

    @Test
    void open_sameDirectoryTwice_failsAsInUse() {
        embedded();
        IpfsException e = assertThrows(io.mirrorball.ipfs.IpfsNodeInUseException.class,
                () -> EmbeddedNode.open(dir.resolve("node")));
        assertTrue(e.getMessage().contains("already open"), e.getMessage());
    }

    @Test
    void pinAdd_incompleteDag_failsAndPinsNothing() throws IOException {
        Cid cid = embedded().add(TestBytes.of(6, 2 * CHUNK + 1)).cid();
        truncate(blobData(cid), CHUNK); // leaves 1 and 2 are gone

        assertThrows(IpfsNotFoundException.class, () -> embedded().pinAdd(cid));
        assertEquals(List.of(), embedded().pins());
    }

    @Test
    void dagExport_thenImportIntoAnotherNode_sameDagAndUnpinnedRoot() throws IOException {
        Cid cid = embedded().add(TestBytes.of(8, 3 * CHUNK + 10)).cid();
        embedded().filesCp("/ipfs/" + cid, "/dir/file");
        Cid d = embedded().filesFlush("/dir");
        Path car = dir.resolve("export.car");
        try (InputStream in = embedded().dagExport(d)) {
            Files.copy(in, car);
        }
        try (EmbeddedNode other = EmbeddedNode.open(dir.resolve("other"));
                InputStream in = Files.newInputStream(car)) {
            assertEquals(List.of(d), other.dagImport(in));
            assertEquals(List.of(), other.pins());
            other.pinAdd(d);
            assertEquals(List.of(d), other.pins());
            try (InputStream read = other.cat(d + "/file", 0, -1); InputStream want = TestBytes.of(8, 3 * CHUNK + 10)) {
                assertArrayEquals(want.readAllBytes(), read.readAllBytes());
            }
            assertEquals(7, other.fsck().blocksChecked()); // the empty MFS root, then dir, file node, 4 leaves
        }
    }

    @Test
    void dagImport_blockNotMatchingItsCid_fails() throws IOException {
        Cid cid = embedded().blockPut("abc".getBytes(StandardCharsets.UTF_8), Cid.RAW);
        byte[] car;
        try (InputStream in = embedded().dagExport(cid)) {
            car = in.readAllBytes();
        }
        car[car.length - 1] = 'x';
        try (EmbeddedNode other = EmbeddedNode.open(dir.resolve("other"))) {
            IpfsException e = assertThrows(IpfsException.class, () -> other.dagImport(new ByteArrayInputStream(car)));
            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(other.blockStat(cid).isEmpty());
        }
    }

    @Test
    void dagImport_garbage_failsCleanly() {
        assertThrows(IpfsException.class, () -> embedded().dagImport(new ByteArrayInputStream(new byte[] {5, 1, 2, 3, 4, 5})));
    }

    @Test
    void fsck_reportsMissingAndCorruptBlocks() throws IOException {
        Cid a = embedded().add(TestBytes.of(10, 2 * CHUNK + 1)).cid();
        embedded().filesCp("/ipfs/" + a, "/f/a");
        FsckReport clean = embedded().fsck();
        assertTrue(clean.clean(), clean.toString());
        // MFS root, the contract's empty root dir, /f, the file node and its 3 leaves
        assertEquals(7, clean.blocksChecked());

        List<DagPb.Link> leaves = DagPb.decode(embedded().blockGet(a)).links();
        Files.delete(blockFile(a)); // the file's dag-pb node: its leaves are no longer reachable
        flipLeaf(a, 2);
        FsckReport broken = embedded().fsck();

        assertEquals(List.of(a), broken.missing());
        assertEquals(List.of(leaves.get(2).cid()), broken.corrupt(), "found by the scan of the blob file");
        assertEquals(2, broken.problems());
    }

    /** Issue 9: a block flipped on disk (same length) was skipped by every later put, so a re-push never repaired it. */
    @Test
    void add_ofBlockCorruptedOnDiskWithSameLength_rewritesIt() throws IOException {
        Cid cid = embedded().add(TestBytes.of(12, 2 * CHUNK + 1)).cid();
        flipLeaf(cid, 1);
        IpfsException e = assertThrows(IpfsException.class, () -> {
            try (InputStream in = embedded().cat(cid.toString(), 0, -1)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        });
        assertEquals(IpfsException.Kind.CORRUPT, e.kind());

        assertEquals(cid, embedded().add(TestBytes.of(12, 2 * CHUNK + 1)).cid());
        try (InputStream in = embedded().cat(cid.toString(), 0, -1); InputStream want = TestBytes.of(12, 2 * CHUNK + 1)) {
            assertArrayEquals(want.readAllBytes(), in.readAllBytes());
        }
        assertTrue(embedded().fsck().clean());
    }

    @Test
    void fsck_corruptBlockFiles_referencedOrNot_areFoundAndRepairRemovesThem() throws IOException {
        Cid file = embedded().add(TestBytes.of(13, 2 * CHUNK + 1)).cid();
        embedded().filesCp("/ipfs/" + file, "/f/a");
        Cid leaf = DagPb.decode(embedded().blockGet(file)).links().get(0).cid();
        Cid orphan = embedded().blockPut("nobody links to me".getBytes(StandardCharsets.UTF_8), Cid.RAW);
        List<DagPb.Link> others = DagPb.decode(embedded().blockGet(file)).links().subList(1, 3);
        flipLeaf(file, 0);
        flipOneByte(blockFile(orphan));

        FsckReport found = embedded().fsck(false);
        assertEquals(List.of(leaf, orphan), found.corrupt());
        assertEquals(List.of(), found.removed());
        assertTrue(found.blockFiles() >= 6, found.toString());
        assertTrue(Files.exists(blobData(file)), "a check without --repair changes nothing");

        FsckReport repaired = embedded().fsck(true);
        assertEquals(List.of(leaf, orphan), repaired.removed());
        assertFalse(Files.exists(blobData(file)), "a blob file with a corrupt leaf is removed");
        for (DagPb.Link good : others) {
            assertTrue(Files.exists(blockFile(good.cid())), "its good leaves are kept as block files");
        }
        assertFalse(Files.exists(blockFile(orphan)));
        FsckReport after = embedded().fsck(false);
        assertEquals(List.of(leaf), after.missing());
        assertEquals(List.of(), after.corrupt());

        embedded().add(TestBytes.of(13, 2 * CHUNK + 1)); // a re-push writes the removed block again
        assertTrue(embedded().fsck(false).clean());
    }

    @Test
    void fsckRepair_blobFileWithDamagedIndex_keepsItsLeavesAsBlockFiles() throws IOException {
        Cid cid = embedded().add(TestBytes.of(14, 3 * CHUNK + 5)).cid();
        embedded().filesCp("/ipfs/" + cid, "/f/a");
        embedded().close();
        Path index = dir.resolve("node/blobs").resolve(HexFormat.of().formatHex(cid.sha256Digest()) + ".idx");
        flipOneByte(index);
        node = EmbeddedNode.open(dir.resolve("node"));

        FsckReport found = embedded().fsck(false);
        assertEquals(1, found.damagedBlobFiles().size(), found.toString());
        assertEquals(4, found.missing().size(), "its leaves: " + found);
        FsckReport repaired = embedded().fsck(true);
        assertEquals(found.damagedBlobFiles(), repaired.damagedBlobFiles());
        assertEquals(List.of(), repaired.missing(), "the leaves were saved as block files");
        assertFalse(Files.exists(index));
        assertFalse(Files.exists(blobData(cid)));
        assertTrue(embedded().fsck(false).clean());
        try (InputStream in = embedded().cat(cid.toString(), 0, -1); InputStream want = TestBytes.of(14, 3 * CHUNK + 5)) {
            assertArrayEquals(want.readAllBytes(), in.readAllBytes());
        }
    }

    private static void flipOneByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
    }

    @Test
    void fsckCommand_cleanStore_exitsZero() throws IOException {
        embedded().filesWrite("/x", new byte[] {1, 2, 3});
        embedded().close();
        java.io.StringWriter out = new java.io.StringWriter();
        int code = new picocli.CommandLine(new io.mirrorball.cli.FsckCommand()).setOut(new java.io.PrintWriter(out))
                .execute("--path", dir.resolve("node").toString());
        node = EmbeddedNode.open(dir.resolve("node"));

        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("0 missing, 0 corrupt"), out.toString());
    }

    @Test
    void fsckCommand_corruptStore_exitsOne() throws IOException {
        Cid cid = embedded().add(TestBytes.of(11, CHUNK + 1)).cid();
        embedded().filesCp("/ipfs/" + cid, "/x");
        Cid leaf = DagPb.decode(embedded().blockGet(cid)).links().get(1).cid();
        embedded().close();
        flipLeaf(cid, 1);
        java.io.StringWriter out = new java.io.StringWriter();
        int code = new picocli.CommandLine(new io.mirrorball.cli.FsckCommand()).setOut(new java.io.PrintWriter(out))
                .execute("--path", dir.resolve("node").toString());
        node = EmbeddedNode.open(dir.resolve("node"));

        assertEquals(1, code, out.toString());
        assertTrue(out.toString().contains("corrupt " + leaf), out.toString());
    }

    @Test
    void fsckCommand_pathWithoutStore_exitsTwoAndCreatesNothing() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = new picocli.CommandLine(new io.mirrorball.cli.FsckCommand()).setErr(new java.io.PrintWriter(err))
                .execute("--path", dir.resolve("typo").toString());

        assertEquals(2, code);
        assertTrue(err.toString().contains("not an embedded IPFS store"), err.toString());
        assertFalse(Files.exists(dir.resolve("typo")));
    }

    @Test
    void cat_cidV0FileWithDagPbLeaves_readsLikeKuboDefaults() throws IOException {
        // Kubo's default add (CIDv0, leaves are UnixFS file nodes with inline Data), as disco publishes blobs
        byte[] first = "first leaf, ".getBytes(StandardCharsets.UTF_8);
        byte[] second = "second leaf".getBytes(StandardCharsets.UTF_8);
        byte[] leaf1 = DagPb.encodeNode(leafData(first), List.of());
        byte[] leaf2 = DagPb.encodeNode(leafData(second), List.of());
        Cid c1 = Cid.v0(embedded().blockPut(leaf1, Cid.DAG_PB).multihash());
        Cid c2 = Cid.v0(embedded().blockPut(leaf2, Cid.DAG_PB).multihash());
        byte[] parentData = UnixFs.fileData(new long[] {first.length, second.length}, 2);
        byte[] parent = DagPb.encodeNode(parentData, List.of(new DagPb.Link("", c1, leaf1.length),
                new DagPb.Link("", c2, leaf2.length)));
        Cid root = Cid.v0(embedded().blockPut(parent, Cid.DAG_PB).multihash());

        assertTrue(root.toString().startsWith("Qm"), root.toString());
        try (InputStream in = embedded().cat(root.toString(), 6, 13)) {
            assertEquals("leaf, second ", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        embedded().filesCp("/ipfs/" + root, "/v0/blob");
        assertEquals(first.length + second.length, embedded().filesStat("/v0/blob").orElseThrow().size());
        assertEquals(root, embedded().filesStat("/v0/blob").orElseThrow().cid());
    }

    private static byte[] leafData(byte[] content) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(0x08);
        out.write(0x02);
        out.write(0x12);
        out.write(content.length);
        out.writeBytes(content);
        out.write(0x18);
        out.write(content.length);
        return out.toByteArray();
    }

    @Test
    void dagPb_encodeDecode_roundTrips() {
        Cid target = Cid.sha256(Cid.RAW, new byte[32]);
        List<DagPb.Link> links = List.of(new DagPb.Link("", target, 5), new DagPb.Link("n\u00e4me", target, 300));
        byte[] block = DagPb.encodeNode(new byte[] {8, 2}, links);

        assertEquals(new DagPb.Decoded(new byte[] {8, 2}, links), DagPb.decode(block));
        assertThrows(IllegalArgumentException.class, () -> DagPb.decode(new byte[] {0x22, 0x00}));
    }

    @Test
    void directoryBlock_sortsByNameBytesAndRejectsDuplicates() {
        Cid target = Cid.sha256(Cid.RAW, new byte[32]);
        byte[] block = UnixFs.directoryBlock(List.of(new DagPb.Link("b", target, 1), new DagPb.Link("B", target, 1),
                new DagPb.Link("a", target, 1), new DagPb.Link("\uff01", target, 1), new DagPb.Link("\ud83d\ude00", target, 1)));

        assertEquals(List.of("B", "a", "b", "\uff01", "\ud83d\ude00"),
                DagPb.decode(block).links().stream().map(DagPb.Link::name).toList());
        assertEquals("0801", HexFormat.of().formatHex(DagPb.decode(block).data()));
        assertThrows(IllegalArgumentException.class, () -> UnixFs.directoryBlock(
                List.of(new DagPb.Link("a", target, 1), new DagPb.Link("a", target, 2))));
        assertThrows(IllegalArgumentException.class, () -> UnixFs.directoryBlock(List.of(new DagPb.Link("a/b", target, 1))));
    }

    @Test
    void directoryBlock_atKubosShardingThreshold_isRefused() {
        Cid target = Cid.sha256(Cid.RAW, new byte[32]);
        List<DagPb.Link> links = Stream.iterate(0, i -> i + 1).limit(262_144 / (36 + 6) + 1)
                .map(i -> new DagPb.Link(String.format("%06d", i), target, 1)).toList();
        assertThrows(IllegalArgumentException.class, () -> UnixFs.directoryBlock(links));
    }

    /** The blob file holding the leaves of the file with this root. */
    private Path blobData(Cid root) {
        return dir.resolve("node/blobs").resolve(HexFormat.of().formatHex(root.sha256Digest()) + ".data");
    }

    /** Flips the first byte of a leaf in the blob file of the file with this root. */
    private void flipLeaf(Cid root, int leaf) throws IOException {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(blobData(root),
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, (long) leaf * CHUNK);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, (long) leaf * CHUNK);
        }
    }

    private static void truncate(Path file, long length) throws IOException {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(length);
        }
    }

    private Path blockFile(Cid cid) {
        String hex = HexFormat.of().formatHex(cid.sha256Digest());
        return dir.resolve("node/blocks").resolve(hex.substring(0, 2)).resolve(hex);
    }

    /** Discards bytes. */
    private static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }
}
