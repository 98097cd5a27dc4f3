package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.embedded.EmbeddedNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CarWriter with blocks from a real embedded node: two directories that share a multi-block file. */
final class CarWriterTest {
    private static final int CHUNK = 262_144;

    @TempDir
    Path dir;

    /** Two directory roots, /a and /b, both holding the same 4-leaf file plus a file of their own. */
    private record Shared(Cid a, Cid b) {
    }

    private static Shared shared(EmbeddedNode node) throws IOException {
        byte[] content = new byte[3 * CHUNK + 10];
        new Random(5).nextBytes(content);
        Cid file = node.add(new ByteArrayInputStream(content)).cid();
        node.filesCp("/ipfs/" + file, "/a/file");
        node.filesCp("/ipfs/" + file, "/b/file");
        node.filesWrite("/a/own", "only in a".getBytes(StandardCharsets.UTF_8));
        node.filesWrite("/b/own", "only in b".getBytes(StandardCharsets.UTF_8));
        return new Shared(node.filesFlush("/a"), node.filesFlush("/b"));
    }

    @Test
    void copy_twoRootsSharingBlocks_writesEachBlockOnceAndBothRoots() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Shared s = shared(node);
            Set<Cid> inA = cids(node.dagExport(s.a()));
            Set<Cid> inB = cids(node.dagExport(s.b()));
            Set<Cid> union = new LinkedHashSet<>(inA);
            union.addAll(inB);
            assertTrue(union.size() < inA.size() + inB.size(), "the two DAGs share blocks");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CarWriter writer = CarWriter.start(out, List.of(s.a(), s.b()));
            writer.copy(s.a(), node::blockGet);
            writer.copy(s.b(), node::blockGet);
            writer.finish();

            List<Cid> sections = new ArrayList<>();
            try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(out.toByteArray()))) {
                assertEquals(List.of(s.a(), s.b()), reader.roots());
                Optional<VerifyingCarReader.Section> section;
                while ((section = reader.nextSection()).isPresent()) {
                    sections.add(section.get().cid());
                }
            }
            assertEquals(union.size(), sections.size(), "each block once: " + sections);
            assertEquals(union, Set.copyOf(sections));
            assertEquals(union.size(), writer.blocksWritten());
        }
    }

    @Test
    void copyCar_fromDagExports_writesTheSameCarAsCopyFromBlocks() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Shared s = shared(node);
            byte[] fromBlocks = writeFromBlocks(node, s);

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CarWriter writer = CarWriter.start(out, List.of(s.a(), s.b()));
            for (Cid root : List.of(s.a(), s.b())) {
                try (InputStream export = node.dagExport(root)) {
                    assertEquals(List.of(root), writer.copyCar(export));
                }
            }
            writer.finish();

            assertArrayEquals(fromBlocks, out.toByteArray());
        }
    }

    @Test
    void output_isAcceptedByCarImportCar() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Shared s = shared(node);
            byte[] car = writeFromBlocks(node, s);
            Map<String, Integer> stored = new HashMap<>();

            List<Cid> roots = Car.importCar(new ByteArrayInputStream(car), CarTest.MAX_BLOCK,
                    (digest, block, length) -> stored.merge(java.util.HexFormat.of().formatHex(digest), 1, Integer::sum));

            assertEquals(List.of(s.a(), s.b()), roots);
            Set<Cid> union = new LinkedHashSet<>(cids(node.dagExport(s.a())));
            union.addAll(cids(node.dagExport(s.b())));
            assertEquals(union.size(), stored.size());
            assertTrue(stored.values().stream().allMatch(n -> n == 1), "each block stored once: " + stored);
        }
    }

    @Test
    void output_dagImportedIntoFreshEmbeddedNode_givesIdenticalDags() throws IOException {
        Path car = dir.resolve("two.car");
        Shared s;
        Map<Cid, byte[]> exports = new HashMap<>();
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            s = shared(node);
            Files.write(car, writeFromBlocks(node, s));
            for (Cid root : List.of(s.a(), s.b())) {
                try (InputStream in = node.dagExport(root)) {
                    exports.put(root, in.readAllBytes());
                }
            }
        }

        try (EmbeddedNode fresh = EmbeddedNode.open(dir.resolve("fresh"))) {
            try (InputStream in = Files.newInputStream(car)) {
                assertEquals(List.of(s.a(), s.b()), fresh.dagImport(in));
            }
            for (Cid root : List.of(s.a(), s.b())) {
                assertEquals(Optional.empty(), CompletenessWalk.firstMissing(root, CompletenessWalk.of(fresh)));
                try (InputStream in = fresh.dagExport(root)) {
                    assertArrayEquals(exports.get(root), in.readAllBytes(), "the DAG under " + root);
                }
            }
        }
    }

    @Test
    void completenessWalk_blockRemovedFromImportedCar_findsIt() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Shared s = shared(node);
            Map<Cid, byte[]> blocks = new HashMap<>();
            try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(writeFromBlocks(node, s)))) {
                Optional<VerifyingCarReader.Section> section;
                while ((section = reader.nextSection()).isPresent()) {
                    blocks.put(section.get().cid(), section.get().block());
                }
            }
            Cid fileCid = node.filesStat("/b/file").orElseThrow().cid();
            Cid leaf = DagPb.decode(fileCid, blocks.get(fileCid)).links().get(2).cid();
            blocks.remove(leaf);

            assertEquals(Optional.of(leaf), CompletenessWalk.firstMissing(s.a(), cid -> Optional.ofNullable(blocks.get(cid))));
            assertEquals(Optional.of(leaf), CompletenessWalk.firstMissing(s.b(), cid -> Optional.ofNullable(blocks.get(cid))));
        }
    }

    @Test
    void copy_blockNotMatchingItsCid_refusedAndWriterUnusable() throws IOException {
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            Shared s = shared(node);
            Cid fileCid = node.filesStat("/a/file").orElseThrow().cid();
            Cid leaf = DagPb.decode(fileCid, node.blockGet(fileCid)).links().get(1).cid();
            UnixFsReader.BlockSource flipping = cid -> {
                byte[] block = node.blockGet(cid);
                if (cid.equals(leaf)) {
                    block[100] ^= 1;
                }
                return block;
            };
            CarWriter writer = CarWriter.start(OutputStream.nullOutputStream(), List.of(s.a()));

            IpfsException e = assertThrows(IpfsException.class, () -> writer.copy(s.a(), flipping));

            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertEquals("block " + leaf + " under root " + s.a() + " does not match its CID", e.getMessage());
            assertThrows(IllegalStateException.class, writer::finish);
        }
    }

    @Test
    void start_nonSha256Root_refused() {
        byte[] multihash = new byte[66];
        multihash[0] = 0x13; // sha2-512
        multihash[1] = 64;
        Cid sha512 = Cid.v1(Cid.DAG_PB, multihash);

        IpfsException e = assertThrows(IpfsException.class,
                () -> CarWriter.start(OutputStream.nullOutputStream(), List.of(sha512)));

        assertTrue(e.getMessage().contains("is not a sha2-256 CID"), e.getMessage());
    }

    @Test
    void copy_nonSha256BlockUnderRoot_refused() throws IOException {
        byte[] multihash = new byte[66];
        multihash[0] = 0x13;
        multihash[1] = 64;
        Cid sha512 = Cid.v1(Cid.RAW, multihash);
        byte[] node = DagPb.encodeNode(new byte[] {8, 2}, List.of(new DagPb.Link("", sha512, 3)));
        Cid root = Cid.sha256(Cid.DAG_PB, UnixFs.sha256(node));
        CarWriter writer = CarWriter.start(OutputStream.nullOutputStream(), List.of(root));

        IpfsException e = assertThrows(IpfsException.class, () -> writer.copy(root, cid -> {
            if (cid.equals(root)) {
                return node;
            }
            throw new AssertionError("a non-sha2-256 block is refused before it is fetched");
        }));

        assertEquals("block " + sha512 + " under root " + root
                + " is not a sha2-256 CID: only sha2-256 DAGs can be exported", e.getMessage());
    }

    @Test
    void finish_rootNeverCopied_refused() throws IOException {
        CarWriter writer = CarWriter.start(OutputStream.nullOutputStream(),
                List.of(VerifyingCarReaderTest.NODE_CID, VerifyingCarReaderTest.ONE_CID));
        writer.copy(VerifyingCarReaderTest.NODE_CID, VerifyingCarReaderTest.blocks()::get);

        IpfsException e = assertThrows(IpfsException.class, writer::finish);

        assertEquals("root " + VerifyingCarReaderTest.ONE_CID + " was named in the CAR header but never copied",
                e.getMessage());
    }

    @Test
    void copyCar_rootNotInHeader_refused() throws IOException {
        CarWriter writer = CarWriter.start(OutputStream.nullOutputStream(), List.of(VerifyingCarReaderTest.ONE_CID));

        IpfsException e = assertThrows(IpfsException.class,
                () -> writer.copyCar(new ByteArrayInputStream(VerifyingCarReaderTest.car())));

        assertTrue(e.getMessage().contains("root " + VerifyingCarReaderTest.NODE_CID + " is not one of the roots"),
                e.getMessage());
    }

    @Test
    void copyCar_corruptSection_refusedAndNothingOfItWritten() throws IOException {
        byte[] car = VerifyingCarReaderTest.car();
        car[car.length - 1] ^= 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CarWriter writer = CarWriter.start(out, List.of(VerifyingCarReaderTest.NODE_CID));
        int headerAndTwo = (int) VerifyingCarReaderTest.sectionOffset(VerifyingCarReaderTest.car(), 3);

        IpfsException e = assertThrows(IpfsException.class, () -> writer.copyCar(new ByteArrayInputStream(car)));

        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
        assertEquals(headerAndTwo, out.size(), "the header and the two good sections only");
    }

    @Test
    void copy_sameRootTwiceInOneHeader_refused() {
        assertThrows(IllegalArgumentException.class, () -> CarWriter.start(OutputStream.nullOutputStream(),
                List.of(VerifyingCarReaderTest.NODE_CID, VerifyingCarReaderTest.NODE_CID)));
    }

    private static byte[] writeFromBlocks(EmbeddedNode node, Shared s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CarWriter writer = CarWriter.start(out, List.of(s.a(), s.b()));
        writer.copy(s.a(), node::blockGet);
        writer.copy(s.b(), node::blockGet);
        writer.finish();
        return out.toByteArray();
    }

    private static Set<Cid> cids(InputStream car) throws IOException {
        Set<Cid> cids = new LinkedHashSet<>();
        try (VerifyingCarReader reader = VerifyingCarReader.of(car)) {
            Optional<VerifyingCarReader.Section> section;
            while ((section = reader.nextSection()).isPresent()) {
                assertTrue(cids.add(section.get().cid()), "a node's export has each block once");
            }
        }
        return cids;
    }
}
