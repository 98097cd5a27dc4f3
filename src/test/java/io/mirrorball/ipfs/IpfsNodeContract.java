package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link IpfsNode} must have: Kubo's semantics. Extend it and return the node
 * under test from {@link #node()}. Every test works below its own MFS root, so tests never collide,
 * and it uses only the {@link IpfsNode} interface.
 *
 * <p>CIDs of {@code add} are checked against an independent UnixFS reference computed here (raw
 * leaves, 262144-byte chunks, balanced layout with 174 links, CIDv1), so a node that agrees with it
 * gives the same CIDs as Kubo with {@link ImportParams#FIXED}.
 */
public abstract class IpfsNodeContract {
    protected static final int CHUNK = 262_144;
    protected static final String EMPTY_RAW_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    /** An empty UnixFS directory: QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn as CIDv1. */
    protected static final byte[] EMPTY_DIRECTORY_NODE = {0x0a, 0x02, 0x08, 0x01};
    protected static final String EMPTY_DIRECTORY_CID = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";

    /** The node under test (shared between tests; not closed by the contract). */
    protected abstract IpfsNode node();

    /** Whether the node under test holds a recursive pin of {@code cid} (asked outside the interface). */
    protected abstract boolean pinnedRecursively(Cid cid) throws IOException;

    protected String root;

    @BeforeEach
    void createRoot() throws IOException {
        root = "/contract-" + UUID.randomUUID();
        node().filesMkdir(root);
    }

    @AfterEach
    void removeRoot() throws IOException {
        node().filesRm(root);
    }

    // ---- add -------------------------------------------------------------------------------------

    @Test
    void add_emptyInput_givesWellKnownRawCid() throws IOException {
        IpfsNode.Added added = node().add(InputStream.nullInputStream());

        assertEquals(Cid.parse(EMPTY_RAW_CID), added.cid());
        assertEquals(0, added.size());
    }

    @Test
    void add_oneByte_givesRawCidOfTheByte() throws IOException {
        IpfsNode.Added added = node().add(new ByteArrayInputStream(new byte[] {'a'}));

        assertEquals(Cid.parse("bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm"), added.cid());
        assertEquals(Cid.sha256(Cid.RAW, sha256(new byte[] {'a'})), added.cid());
        assertEquals(1, added.size());
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {2, 262_143, 262_144, 262_145, 524_288, 3 * 262_144 + 7, 174L * 262_144, 174L * 262_144 + 1})
    void add_sizes_giveUnixfsReferenceCid(long size) throws IOException {
        IpfsNode.Added added;
        try (InputStream content = new PatternStream(size, size * 31 + 7)) {
            added = node().add(content);
        }

        assertEquals(UnixfsReference.cid(new PatternStream(size, size * 31 + 7)), added.cid());
        assertEquals(size, added.size());
        assertEquals(1, added.cid().version());
        assertEquals(size <= CHUNK ? Cid.RAW : Cid.DAG_PB, added.cid().codec());
    }

    @Test
    void add_knownMultiChunkFile_givesKuboCid() throws IOException {
        // 262145 bytes: a root dag-pb node of 104 bytes over two raw leaves (checked against js-ipfs/Kubo).
        byte[] content = new byte[CHUNK + 1];
        Arrays.fill(content, (byte) 'x');
        Cid reference = UnixfsReference.cid(new ByteArrayInputStream(content));

        IpfsNode.Added added = node().add(new ByteArrayInputStream(content));

        assertEquals(reference, added.cid());
        assertEquals(Optional.of(104L), node().blockStat(added.cid()));
    }

    @Test
    void add_sameBytesTwice_sameCid() throws IOException {
        Cid first = node().add(new PatternStream(600_000, 99)).cid();
        Cid second = node().add(new PatternStream(600_000, 99)).cid();
        Cid other = node().add(new PatternStream(600_000, 100)).cid();

        assertEquals(first, second);
        assertNotEquals(first, other);
    }

    @Test
    void add_readsTheStreamToItsEnd_withoutClosingIt() throws IOException {
        TrackingStream content = new TrackingStream(new PatternStream(300_000, 5));

        node().add(content);

        assertEquals(-1, content.read(), "add must consume the whole stream");
        assertFalse(content.closed, "add must not close the caller's stream");
    }

    /** An upload's requests bring pieces of any size; the result is the add of the whole. */
    @Test
    void startAdd_piecesOfOddSizes_sameCidAndSizeAsAddOfTheWhole() throws IOException {
        byte[] content = pattern(3 * CHUNK + 12_345, 91);
        IpfsNode.Added added;
        try (IpfsNode.StreamingAdd add = node().startAdd().orElseThrow()) {
            int[] pieces = {1, 7, 65_536, CHUNK - 1, CHUNK + 1, 3};
            int offset = 0;
            for (int i = 0; offset < content.length; i++) {
                int n = Math.min(pieces[i % pieces.length], content.length - offset);
                add.write(content, offset, n);
                offset += n;
            }
            added = add.finish();
        }

        assertEquals(node().add(new ByteArrayInputStream(content)), added);
        try (InputStream in = node().cat(added.cid().toString(), 0, -1)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    @Test
    void startAdd_abandonedHalfWay_nextAddsWork() throws IOException {
        byte[] content = pattern(CHUNK + 99, 92);
        try (IpfsNode.StreamingAdd abandoned = node().startAdd().orElseThrow()) {
            abandoned.write(content, 0, CHUNK);
        }
        IpfsNode.Added added;
        try (IpfsNode.StreamingAdd add = node().startAdd().orElseThrow()) {
            add.write(content, 0, content.length);
            added = add.finish();
        }

        assertEquals(node().add(new ByteArrayInputStream(content)), added);
    }

    // ---- cat -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "offset {0} length {1}")
    @CsvSource({
        "0, -1",
        "0, 0",
        "0, 1",
        "0, 262144",
        "262143, 2",
        "262144, 10",
        "262144, -1",
        "524287, 3",
        "1, 524288",
        "800000, -1",
        "799999, 100",
    })
    void cat_range_returnsThoseBytes(long offset, long length) throws IOException {
        byte[] content = pattern(800_001, 3);
        Cid cid = node().add(new ByteArrayInputStream(content)).cid();

        byte[] read;
        try (InputStream in = node().cat(cid.toString(), offset, length)) {
            read = in.readAllBytes();
        }

        int end = length < 0 ? content.length : (int) Math.min(content.length, offset + length);
        assertArrayEquals(Arrays.copyOfRange(content, (int) offset, end), read);
    }

    @Test
    void cat_pathInsideDirectory_readsTheFile() throws IOException {
        byte[] content = pattern(300_000, 4);
        Cid file = node().add(new ByteArrayInputStream(content)).cid();
        node().filesCp("/ipfs/" + file, root + "/dir/sub/blob");
        Cid dir = node().filesFlush(root + "/dir");

        try (InputStream in = node().cat(dir + "/sub/blob", 10, 5)) {
            assertArrayEquals(Arrays.copyOfRange(content, 10, 15), in.readAllBytes());
        }
    }

    @Test
    void cat_missingPathInsideDirectory_notFound() throws IOException {
        node().filesWrite(root + "/dir/a", "a".getBytes(StandardCharsets.UTF_8));
        Cid dir = node().filesFlush(root + "/dir");

        assertThrows(IpfsNotFoundException.class, () -> {
            try (InputStream in = node().cat(dir + "/nope", 0, -1)) {
                in.readAllBytes();
            }
        });
    }

    @Test
    void cat_closedEarly_doesNotBreakTheNode() throws IOException {
        Cid cid = node().add(new PatternStream(3_000_000, 8)).cid();
        for (int i = 0; i < 5; i++) {
            try (InputStream in = node().cat(cid.toString(), 0, -1)) {
                assertEquals(100, in.readNBytes(100).length);
            }
        }

        try (InputStream in = node().cat(cid.toString(), 0, -1)) {
            assertEquals(3_000_000, in.transferTo(OutputStream.nullOutputStream()));
        }
    }

    // ---- blocks ----------------------------------------------------------------------------------

    @Test
    void blockPut_raw_returnsCidV1OfTheBytes() throws IOException {
        byte[] block = ("raw block " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);

        Cid cid = node().blockPut(block, Cid.RAW);

        assertEquals(Cid.sha256(Cid.RAW, sha256(block)), cid);
        assertEquals(1, cid.version());
        assertArrayEquals(block, node().blockGet(cid));
        assertEquals(Optional.of((long) block.length), node().blockStat(cid));
    }

    @Test
    void blockPut_dagPb_returnsCidV1() throws IOException {
        Cid cid = node().blockPut(EMPTY_DIRECTORY_NODE, Cid.DAG_PB);

        assertEquals(Cid.parse(EMPTY_DIRECTORY_CID), cid);
        assertEquals(Cid.DAG_PB, cid.codec());
        assertArrayEquals(EMPTY_DIRECTORY_NODE, node().blockGet(cid));
        assertEquals(Optional.of(4L), node().blockStat(cid));
    }

    @Test
    void blockPut_dagPbDirectory_isReadableAsUnixfs() throws IOException {
        Cid file = node().add(new ByteArrayInputStream("hello".getBytes(StandardCharsets.UTF_8))).cid();
        byte[] directory = UnixfsReference.directory(List.of(new UnixfsReference.Link("hello.txt", file, 5)));

        Cid dir = node().blockPut(directory, Cid.DAG_PB);
        node().filesCp("/ipfs/" + dir, root + "/published");

        assertEquals(List.of(new IpfsNode.FileEntry("hello.txt", file, 5, false)), node().filesLs(root + "/published"));
        try (InputStream in = node().cat(dir + "/hello.txt", 0, -1)) {
            assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void blockStat_missingBlock_emptyWithoutNetworkWait() throws IOException {
        Cid missing = Cid.sha256(Cid.RAW, sha256(("never stored " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8)));

        long start = System.nanoTime();
        Optional<Long> stat = node().blockStat(missing);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals(Optional.empty(), stat);
        assertTrue(millis < 5_000, "blockStat of a missing block took " + millis + " ms");
    }

    // ---- MFS -------------------------------------------------------------------------------------

    @Test
    void filesMkdir_createsParents_andIsIdempotent() throws IOException {
        node().filesMkdir(root + "/a/b/c");
        node().filesMkdir(root + "/a/b/c");

        IpfsNode.FileStat stat = node().filesStat(root + "/a/b").orElseThrow();
        assertTrue(stat.directory());
        assertEquals(0, stat.size());
        assertEquals(List.of(new IpfsNode.FileEntry("c", Cid.parse(EMPTY_DIRECTORY_CID), 0, true)),
                node().filesLs(root + "/a/b"));
    }

    @Test
    void filesWrite_createsParents_andReplacesContent() throws IOException {
        String path = root + "/repositories/app/_manifests/tags/latest/current/link";
        node().filesWrite(path, "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.UTF_8));
        node().filesWrite(path, "short".getBytes(StandardCharsets.UTF_8));

        assertEquals("short", readMfs(path, 0, -1));
        IpfsNode.FileStat stat = node().filesStat(path).orElseThrow();
        assertEquals(5, stat.size());
        assertFalse(stat.directory());
    }

    @Test
    void filesWrite_emptyContent_isAnEmptyFile() throws IOException {
        node().filesWrite(root + "/empty", new byte[0]);

        assertEquals(0, node().filesStat(root + "/empty").orElseThrow().size());
        assertEquals("", readMfs(root + "/empty", 0, -1));
    }

    @ParameterizedTest(name = "offset {0} length {1}")
    @CsvSource({"0, -1, 0123456789", "3, -1, 3456789", "3, 4, 3456", "0, 0, ''", "9, 5, 9", "10, -1, ''"})
    void filesRead_range_returnsThoseBytes(long offset, long length, String expected) throws IOException {
        node().filesWrite(root + "/f", "0123456789".getBytes(StandardCharsets.UTF_8));

        assertEquals(expected, readMfs(root + "/f", offset, length));
    }

    @Test
    void filesRead_addedMultiChunkFile_rangeAcrossChunks() throws IOException {
        byte[] content = pattern(700_000, 6);
        Cid cid = node().add(new ByteArrayInputStream(content)).cid();
        node().filesCp("/ipfs/" + cid, root + "/blobs/data");

        try (InputStream in = node().filesRead(root + "/blobs/data", CHUNK - 5, 10)) {
            assertArrayEquals(Arrays.copyOfRange(content, CHUNK - 5, CHUNK + 5), in.readAllBytes());
        }
    }

    @Test
    void filesRead_missing_notFound() {
        assertThrows(IpfsNotFoundException.class, () -> readMfs(root + "/missing", 0, -1));
        assertThrows(IpfsNotFoundException.class, () -> readMfs(root + "/missing/deeper", 0, 10));
    }

    @Test
    void filesStat_missing_empty() throws IOException {
        assertEquals(Optional.empty(), node().filesStat(root + "/missing"));
        assertEquals(Optional.empty(), node().filesStat(root + "/missing/deeper/still"));
    }

    @Test
    void filesStat_addedFile_hasAddCidAndSizes() throws IOException {
        IpfsNode.Added added = node().add(new PatternStream(CHUNK * 2 + 1, 12));
        node().filesCp("/ipfs/" + added.cid(), root + "/blob");

        IpfsNode.FileStat stat = node().filesStat(root + "/blob").orElseThrow();

        assertEquals(added.cid(), stat.cid());
        assertEquals(CHUNK * 2 + 1, stat.size());
        assertTrue(stat.cumulativeSize() > stat.size(), "cumulative size counts the root node too: " + stat);
        assertFalse(stat.directory());
    }

    @Test
    void filesLs_sortedByName_withKinds() throws IOException {
        IpfsNode.Added added = node().add(new ByteArrayInputStream("blob".getBytes(StandardCharsets.UTF_8)));
        node().filesCp("/ipfs/" + added.cid(), root + "/d/zeta");
        node().filesMkdir(root + "/d/alpha");
        node().filesWrite(root + "/d/Mid", "12345".getBytes(StandardCharsets.UTF_8));

        List<IpfsNode.FileEntry> entries = node().filesLs(root + "/d");

        assertEquals(List.of("Mid", "alpha", "zeta"), entries.stream().map(IpfsNode.FileEntry::name).toList());
        assertEquals(5, entries.get(0).size());
        assertFalse(entries.get(0).directory());
        assertTrue(entries.get(1).directory());
        assertEquals(new IpfsNode.FileEntry("zeta", added.cid(), 4, false), entries.get(2));
    }

    @Test
    void filesLs_emptyDirectory_emptyList() throws IOException {
        node().filesMkdir(root + "/empty");

        assertEquals(List.of(), node().filesLs(root + "/empty"));
    }

    @Test
    void filesLs_missing_notFound() {
        assertThrows(IpfsNotFoundException.class, () -> node().filesLs(root + "/missing"));
    }

    @Test
    void filesCp_fromIpfs_createsParents() throws IOException {
        IpfsNode.Added added = node().add(new PatternStream(CHUNK + 1, 21));
        String path = root + "/blobs/sha256/ab/abcdef/data";

        node().filesCp("/ipfs/" + added.cid(), path);

        assertEquals(added.cid(), node().filesStat(path).orElseThrow().cid());
        try (InputStream in = node().filesRead(path, 0, -1)) {
            assertArrayEquals(pattern(CHUNK + 1, 21), in.readAllBytes());
        }
    }

    @Test
    void filesCp_mfsDirectory_copiesTheTree() throws IOException {
        node().filesWrite(root + "/src/a/link", "x".getBytes(StandardCharsets.UTF_8));

        node().filesCp(root + "/src", root + "/copies/dst");

        assertEquals("x", readMfs(root + "/copies/dst/a/link", 0, -1));
        assertEquals(node().filesStat(root + "/src").orElseThrow().cid(),
                node().filesStat(root + "/copies/dst").orElseThrow().cid());
    }

    @Test
    void filesCp_existingDestination_fails() throws IOException {
        IpfsNode.Added added = node().add(new ByteArrayInputStream("one".getBytes(StandardCharsets.UTF_8)));
        node().filesWrite(root + "/dst", "two".getBytes(StandardCharsets.UTF_8));

        IpfsException e = assertThrows(IpfsException.class, () -> node().filesCp("/ipfs/" + added.cid(), root + "/dst"));

        assertFalse(e instanceof IpfsNotFoundException, e.toString());
        assertEquals("two", readMfs(root + "/dst", 0, -1));
    }

    @Test
    void filesCp_missingSource_notFound() {
        assertThrows(IpfsNotFoundException.class, () -> node().filesCp(root + "/missing", root + "/dst"));
    }

    @Test
    void filesMv_movesFileAndDirectory() throws IOException {
        node().filesWrite(root + "/uploads/x/data", "payload".getBytes(StandardCharsets.UTF_8));
        node().filesMkdir(root + "/final");

        node().filesMv(root + "/uploads/x", root + "/final/x");

        assertEquals(Optional.empty(), node().filesStat(root + "/uploads/x"));
        assertEquals("payload", readMfs(root + "/final/x/data", 0, -1));
    }

    @Test
    void filesMv_missingSource_notFound() {
        assertThrows(IpfsNotFoundException.class, () -> node().filesMv(root + "/missing", root + "/dst"));
    }

    @Test
    void filesRm_removesRecursively_andMissingIsFine() throws IOException {
        node().filesWrite(root + "/tree/a/b", "1".getBytes(StandardCharsets.UTF_8));

        node().filesRm(root + "/tree");
        node().filesRm(root + "/tree");
        node().filesRm(root + "/never/was");

        assertEquals(Optional.empty(), node().filesStat(root + "/tree"));
        assertEquals(List.of(), node().filesLs(root));
    }

    @Test
    void filesFlush_returnsTheDirectoryCid() throws IOException {
        node().filesWrite(root + "/dir/f", "content".getBytes(StandardCharsets.UTF_8));

        Cid flushed = node().filesFlush(root + "/dir");

        assertEquals(node().filesStat(root + "/dir").orElseThrow().cid(), flushed);
        assertEquals(Cid.DAG_PB, flushed.codec());
        assertTrue(node().blockStat(flushed).isPresent(), "a flushed directory is in the blockstore");
    }

    @Test
    void filesFlush_missing_notFound() {
        assertThrows(IpfsNotFoundException.class, () -> node().filesFlush(root + "/missing"));
    }

    // ---- pins ------------------------------------------------------------------------------------

    @Test
    void pinAdd_thenPinRm_twice() throws IOException {
        Cid cid = node().add(new PatternStream(CHUNK * 3, 77)).cid();

        node().pinAdd(cid);
        node().pinAdd(cid);
        node().pinRm(cid);
        node().pinRm(cid);

        assertTrue(node().blockStat(cid).isPresent());
    }

    @Test
    void pinRm_neverPinned_isFine() throws IOException {
        Cid cid = node().blockPut(("unpinned " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8), Cid.RAW);

        node().pinRm(cid);
    }

    // ---- CAR -------------------------------------------------------------------------------------

    @Test
    void dagExport_thenDagImport_roundTrip(@TempDir Path dir) throws IOException {
        byte[] content = pattern(CHUNK * 2 + 100, 55);
        Cid cid = node().add(new ByteArrayInputStream(content)).cid();
        Path car = dir.resolve("export.car");

        try (InputStream in = node().dagExport(cid); OutputStream out = Files.newOutputStream(car)) {
            in.transferTo(out);
        }
        List<Cid> roots;
        try (InputStream in = Files.newInputStream(car)) {
            roots = node().dagImport(in);
        }

        assertEquals(List.of(cid), roots);
        // header + root node + three leaves, each with its CID
        assertTrue(Files.size(car) > content.length + 100, "CAR of " + Files.size(car) + " bytes");
        List<Cid> blocks = CarFile.blocks(Files.readAllBytes(car));
        assertEquals(5, blocks.size(), "header root, then the root node and three leaves: " + blocks);
        assertEquals(cid, blocks.get(0));
        assertTrue(blocks.contains(Cid.sha256(Cid.RAW, sha256(Arrays.copyOf(content, CHUNK)))), blocks.toString());
        assertEquals(cid, blocks.get(1).toV1(), "the root block comes first");
    }

    @Test
    void dagImport_carWithNewBlock_storesIt() throws IOException {
        byte[] data = ("block only in the CAR " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        Cid cid = Cid.sha256(Cid.RAW, sha256(data));
        assertEquals(Optional.empty(), node().blockStat(cid));

        List<Cid> roots = node().dagImport(new ByteArrayInputStream(CarFile.of(cid, data)));

        assertEquals(List.of(cid), roots);
        assertArrayEquals(data, node().blockGet(cid));
        try (InputStream in = node().cat(cid.toString(), 0, -1)) {
            assertArrayEquals(data, in.readAllBytes());
        }
    }

    @Test
    void dagImport_leavesRootsUnpinned_thenPinAddPinsThem() throws IOException {
        byte[] data = ("unpinned import " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        Cid cid = Cid.sha256(Cid.RAW, sha256(data));

        assertEquals(List.of(cid), node().dagImport(new ByteArrayInputStream(CarFile.of(cid, data))));

        assertFalse(pinnedRecursively(cid), "dagImport must not pin its roots");
        node().pinAdd(cid);
        assertTrue(pinnedRecursively(cid));
        node().pinRm(cid);
        assertFalse(pinnedRecursively(cid));
    }

    @Test
    void dagImport_notACar_fails() {
        assertThrows(IpfsException.class,
                () -> node().dagImport(new ByteArrayInputStream("not a car at all".getBytes(StandardCharsets.UTF_8))));
    }

    // ---- node ------------------------------------------------------------------------------------

    @Test
    void id_hasPeerId() throws IOException {
        IpfsNode.NodeId id = node().id();

        assertFalse(id.id().isBlank());
        assertEquals(id, node().id());
    }

    @Test
    void version_isNotBlank() throws IOException {
        assertFalse(node().version().isBlank());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    protected String readMfs(String path, long offset, long length) throws IOException {
        try (InputStream in = node().filesRead(path, offset, length)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    protected static byte[] pattern(int size, long seed) {
        try (InputStream in = new PatternStream(size, seed)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    protected static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Deterministic pseudo-random bytes (xorshift), generated as read: no content held in memory. */
    protected static final class PatternStream extends InputStream {
        private long remaining;
        private long state;

        public PatternStream(long size, long seed) {
            this.remaining = size;
            this.state = seed * 0x9E3779B97F4A7C15L + 1;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining == 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            for (int i = 0; i < n; i++) {
                state ^= state << 13;
                state ^= state >>> 7;
                state ^= state << 17;
                b[off + i] = (byte) state;
            }
            remaining -= n;
            return n;
        }
    }

    /** Records whether the stream was closed. */
    static final class TrackingStream extends java.io.FilterInputStream {
        boolean closed;

        TrackingStream(InputStream in) {
            super(in);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            super.close();
        }
    }

    /**
     * An independent UnixFS importer for the fixed parameters: 262144-byte raw leaves, CIDv1, balanced
     * tree of dag-pb nodes with at most 174 links, a single chunk being its own raw CID.
     */
    protected static final class UnixfsReference {
        static final int MAX_LINKS = 174;

        record Link(String name, Cid cid, long tsize) {
        }

        private record Node(Cid cid, long fileSize, long tsize) {
        }

        public static Cid cid(InputStream content) throws IOException {
            List<Node> level = new ArrayList<>();
            byte[] chunk = new byte[CHUNK];
            while (true) {
                int n = content.readNBytes(chunk, 0, CHUNK);
                if (n == 0 && !level.isEmpty()) {
                    break;
                }
                byte[] leaf = Arrays.copyOf(chunk, n);
                level.add(new Node(Cid.sha256(Cid.RAW, sha256(leaf)), n, n));
                if (n < CHUNK) {
                    break;
                }
            }
            while (level.size() > 1) {
                List<Node> parents = new ArrayList<>();
                for (int i = 0; i < level.size(); i += MAX_LINKS) {
                    parents.add(fileNode(level.subList(i, Math.min(level.size(), i + MAX_LINKS))));
                }
                level = parents;
            }
            return level.get(0).cid();
        }

        private static Node fileNode(List<Node> children) {
            ByteArrayOutputStream node = new ByteArrayOutputStream();
            long fileSize = 0;
            long tsize = 0;
            ByteArrayOutputStream unixfs = new ByteArrayOutputStream();
            for (Node child : children) {
                fileSize += child.fileSize();
                tsize += child.tsize();
            }
            tag(unixfs, 1, 0);
            varint(unixfs, 2); // File
            tag(unixfs, 3, 0);
            varint(unixfs, fileSize);
            for (Node child : children) {
                tag(unixfs, 4, 0);
                varint(unixfs, child.fileSize());
            }
            for (Node child : children) {
                writeLink(node, "", child.cid(), child.tsize());
            }
            tag(node, 1, 2);
            bytes(node, unixfs.toByteArray());
            byte[] encoded = node.toByteArray();
            return new Node(Cid.sha256(Cid.DAG_PB, sha256(encoded)), fileSize, tsize + encoded.length);
        }

        /** A UnixFS directory node with these links, sorted by name as dag-pb requires. */
        static byte[] directory(List<Link> links) {
            ByteArrayOutputStream node = new ByteArrayOutputStream();
            links.stream().sorted(java.util.Comparator.comparing(Link::name))
                    .forEach(l -> writeLink(node, l.name(), l.cid(), l.tsize()));
            tag(node, 1, 2);
            bytes(node, new byte[] {0x08, 0x01});
            return node.toByteArray();
        }

        private static void writeLink(ByteArrayOutputStream node, String name, Cid cid, long tsize) {
            ByteArrayOutputStream link = new ByteArrayOutputStream();
            tag(link, 1, 2);
            bytes(link, cid.bytes());
            tag(link, 2, 2);
            bytes(link, name.getBytes(StandardCharsets.UTF_8));
            tag(link, 3, 0);
            varint(link, tsize);
            tag(node, 2, 2);
            bytes(node, link.toByteArray());
        }

        private static void tag(ByteArrayOutputStream out, int field, int wireType) {
            varint(out, (long) field << 3 | wireType);
        }

        private static void bytes(ByteArrayOutputStream out, byte[] data) {
            varint(out, data.length);
            out.writeBytes(data);
        }

        static void varint(ByteArrayOutputStream out, long value) {
            long v = value;
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }

    /** Writes and reads small CAR v1 files for the tests. */
    static final class CarFile {
        static byte[] of(Cid root, byte[] block) {
            ByteArrayOutputStream header = new ByteArrayOutputStream();
            byte[] cid = root.bytes();
            header.write(0xa2); // map(2)
            header.write(0x65); // text(5)
            header.writeBytes("roots".getBytes(StandardCharsets.US_ASCII));
            header.write(0x81); // array(1)
            header.write(0xd8); // tag(42)
            header.write(42);
            header.write(0x58); // bytes(n), n < 256
            header.write(cid.length + 1);
            header.write(0);
            header.writeBytes(cid);
            header.write(0x67); // text(7)
            header.writeBytes("version".getBytes(StandardCharsets.US_ASCII));
            header.write(0x01);
            ByteArrayOutputStream car = new ByteArrayOutputStream();
            UnixfsReference.varint(car, header.size());
            car.writeBytes(header.toByteArray());
            UnixfsReference.varint(car, cid.length + block.length);
            car.writeBytes(cid);
            car.writeBytes(block);
            return car.toByteArray();
        }

        /** The roots of a canonical dag-cbor header: {"roots": [CID...], "version": 1}. */
        static List<Cid> roots(byte[] car) throws IOException {
            int[] pos = {0};
            Varint.read(car, pos);
            int p = pos[0];
            byte[] prefix = {(byte) 0xa2, 0x65, 'r', 'o', 'o', 't', 's'};
            if (!Arrays.equals(Arrays.copyOfRange(car, p, p + prefix.length), prefix)) {
                throw new IOException("CAR header does not start with roots");
            }
            p += prefix.length;
            int count = car[p++] & 0x1f; // array(n), n < 24
            List<Cid> roots = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if ((car[p] & 0xff) != 0xd8 || car[p + 1] != 42 || (car[p + 2] & 0xff) != 0x58 || car[p + 4] != 0) {
                    throw new IOException("CAR root is not a tag-42 CID");
                }
                int length = car[p + 3] & 0xff;
                roots.add(Cid.fromBytes(Arrays.copyOfRange(car, p + 5, p + 4 + length)));
                p += 4 + length;
            }
            return roots;
        }

        /** The CIDs of the blocks, in order, with the header's first root at index 0. */
        static List<Cid> blocks(byte[] car) {
            List<Cid> cids = new ArrayList<>();
            int[] pos = {0};
            long headerLength = Varint.read(car, pos);
            try {
                cids.add(roots(car).get(0));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            pos[0] += (int) headerLength;
            while (pos[0] < car.length) {
                long length = Varint.read(car, pos);
                int start = pos[0];
                int[] p = {start};
                byte[] cidBytes;
                if (car[start] == 0x12 && car[start + 1] == 0x20) {
                    cidBytes = Arrays.copyOfRange(car, start, start + 34);
                } else {
                    Varint.read(car, p);
                    Varint.read(car, p);
                    Varint.read(car, p);
                    long mhLength = Varint.read(car, p);
                    cidBytes = Arrays.copyOfRange(car, start, p[0] + (int) mhLength);
                }
                cids.add(Cid.fromBytes(cidBytes));
                pos[0] = start + (int) length;
            }
            return cids;
        }
    }
}
