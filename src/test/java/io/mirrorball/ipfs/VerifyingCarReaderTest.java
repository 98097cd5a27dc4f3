package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** VerifyingCarReader on crafted CARs: what passes is unchanged, anything bad is refused before it is handed on. */
final class VerifyingCarReaderTest {
    static final byte[] ONE = "one".getBytes(StandardCharsets.UTF_8);
    static final byte[] TWO = "two".getBytes(StandardCharsets.UTF_8);
    static final Cid ONE_CID = Cid.sha256(Cid.RAW, UnixFs.sha256(ONE));
    static final Cid TWO_CID = Cid.sha256(Cid.RAW, UnixFs.sha256(TWO));
    static final byte[] NODE = DagPb.encodeNode(new byte[] {8, 2}, List.of(
            new DagPb.Link("", ONE_CID, ONE.length), new DagPb.Link("", TWO_CID, TWO.length)));
    static final Cid NODE_CID = Cid.sha256(Cid.DAG_PB, UnixFs.sha256(NODE));

    /** The blocks of a small DAG: a dag-pb node linking two raw leaves. */
    static Map<Cid, byte[]> blocks() {
        Map<Cid, byte[]> blocks = new LinkedHashMap<>();
        blocks.put(NODE_CID, NODE);
        blocks.put(ONE_CID, ONE);
        blocks.put(TWO_CID, TWO);
        return blocks;
    }

    /** The CAR of {@link #blocks}: header, node, one, two. */
    static byte[] car() throws IOException {
        Map<Cid, byte[]> blocks = blocks();
        try (InputStream in = Car.export(blocks::get, NODE_CID)) {
            return in.readAllBytes();
        }
    }

    @Test
    void read_validCar_passesBytesUnchangedAndExposesRoots() throws IOException {
        byte[] car = car();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(car))) {
            assertEquals(List.of(NODE_CID), reader.roots());
            reader.transferTo(out);
            assertEquals(3, reader.sectionsRead());
        }
        assertArrayEquals(car, out.toByteArray());
    }

    @Test
    void read_validCarOneByteAtATime_passesBytesUnchanged() throws IOException {
        byte[] car = car();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(car))) {
            for (int b; (b = reader.read()) >= 0; ) {
                out.write(b);
            }
        }
        assertArrayEquals(car, out.toByteArray());
    }

    @Test
    void nextSection_validCar_returnsEachBlockInOrder() throws IOException {
        List<Cid> cids = new ArrayList<>();
        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(car()))) {
            Optional<VerifyingCarReader.Section> section;
            while ((section = reader.nextSection()).isPresent()) {
                cids.add(section.get().cid());
                assertArrayEquals(blocks().get(section.get().cid()), section.get().block());
            }
            assertEquals(List.of(NODE_CID), reader.roots());
        }
        assertEquals(List.of(NODE_CID, ONE_CID, TWO_CID), cids);
    }

    @Test
    void read_cutMidSection_refusedNamingSectionAndNotPassingItOn() throws IOException {
        byte[] car = car();
        byte[] cut = Arrays.copyOf(car, car.length - 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(cut)).transferTo(out));

        assertTrue(e.getMessage().contains("ends inside section 3 (byte offset " + sectionOffset(car, 3) + ")"),
                e.getMessage());
        assertEquals(sectionOffset(car, 3), out.size(), "sections 1 and 2 were passed on, section 3 was not");
    }

    @Test
    void read_cutInsideALengthVarint_refused() throws IOException {
        byte[] car = append(car(), 0x85); // a varint whose continuation bit promises another byte

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car));

        assertTrue(e.getMessage().contains("ends inside the length of section 4"), e.getMessage());
    }

    /** A cut at a section boundary leaves a valid CAR: the reader cannot know; CompletenessWalk finds it. */
    @Test
    void read_cutAtSectionBoundary_passesAndTheWalkFindsTheMissingBlock() throws IOException {
        byte[] car = car();
        byte[] cut = Arrays.copyOf(car, (int) sectionOffset(car, 3));
        Map<Cid, byte[]> imported = new LinkedHashMap<>();

        List<Cid> roots;
        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(cut))) {
            roots = reader.roots();
            Optional<VerifyingCarReader.Section> section;
            while ((section = reader.nextSection()).isPresent()) {
                imported.put(section.get().cid(), section.get().block());
            }
        }

        assertEquals(List.of(NODE_CID), roots);
        assertEquals(List.of(NODE_CID, ONE_CID), List.copyOf(imported.keySet()));
        assertEquals(Optional.of(TWO_CID),
                CompletenessWalk.firstMissing(NODE_CID, cid -> Optional.ofNullable(imported.get(cid))));
    }

    @Test
    void read_flippedByteInBlock_refusedAsCorruptWithoutDumpingBytes() throws IOException {
        byte[] car = car();
        car[car.length - 1] ^= 0x01;
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(car)).transferTo(out));

        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
        assertEquals("CAR section 3 (byte offset " + sectionOffset(car, 3) + "): block " + TWO_CID
                + " does not match its CID", e.getMessage());
        assertEquals(sectionOffset(car, 3), out.size(), "the corrupt section was not passed on");
    }

    @Test
    void nextSection_flippedByteInBlock_refusedAsCorrupt() throws IOException {
        byte[] car = car();
        car[(int) sectionOffset(car, 2) + 1 + ONE_CID.bytes().length] ^= 0x20;

        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(car))) {
            assertEquals(NODE_CID, reader.nextSection().orElseThrow().cid());
            IpfsException e = assertThrows(IpfsException.class, reader::nextSection);
            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(e.getMessage().contains("section 2"), e.getMessage());
        }
    }

    @Test
    void read_sectionLengthOverLimit_refused() throws IOException {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(NODE_CID)));
        long start = car.size();
        Varint.write(car, VerifyingCarReader.MAX_SECTION + 1L);
        car.writeBytes(new byte[64]);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertEquals("the length of section 1 (byte offset " + start + ") (varint at byte offset " + start
                + ") is over the limit of 1048704 bytes", e.getMessage());
    }

    @Test
    void read_overlongVarint_refusedBeforeReadingOn() throws IOException {
        byte[] car = car();
        byte[] bad = new byte[car.length + 12];
        System.arraycopy(car, 0, bad, 0, car.length);
        Arrays.fill(bad, car.length, bad.length, (byte) 0xff);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(bad));

        assertTrue(e.getMessage().contains("the length of section 4") && e.getMessage().contains("over the limit"),
                e.getMessage());
    }

    /**
     * Found by VerifyingCarReaderFuzzTest (the input is its seed length-varint-past-64-bits): a length
     * varint of many 0x80 bytes shifted past 64 bits into a negative length, taken as the end of the
     * CAR, so the rest of the stream passed on unchecked.
     */
    @Test
    void read_lengthVarintPast64Bits_refusedNotTakenAsEndOfCar() throws IOException {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(ONE_CID)));
        long start = car.size();
        car.write(0x9d);
        for (int i = 0; i < 8; i++) {
            car.write(0x80);
        }
        car.write(0x8d);
        car.write(0x01);
        car.writeBytes(new byte[64]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(car.toByteArray())).transferTo(out));

        assertEquals("the length of section 1 (byte offset " + start + ") (varint at byte offset " + start
                + ") is longer than 3 bytes: over the limit of 1048704 bytes", e.getMessage());
        assertEquals(start, out.size(), "only the header was passed on");
    }

    @Test
    void read_nonMinimalVarint_refused() throws IOException {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(ONE_CID)));
        byte[] cid = ONE_CID.bytes();
        car.write(0x80 | (cid.length + ONE.length));
        car.write(0x00);
        car.writeBytes(cid);
        car.writeBytes(ONE);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertTrue(e.getMessage().contains("the length of section 1") && e.getMessage().contains("not a minimal varint"),
                e.getMessage());
    }

    @Test
    void read_lengthVarintPastTheEndOfTheStream_refused() throws IOException {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(ONE_CID)));
        Varint.write(car, 100);
        car.writeBytes(ONE_CID.bytes());
        car.writeBytes(ONE);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertTrue(e.getMessage().contains("ends inside section 1")
                && e.getMessage().contains("should hold 100 bytes, the stream ended after " + (ONE_CID.bytes().length + 3)),
                e.getMessage());
    }

    @Test
    void read_nonSha256Cid_refused() throws IOException {
        byte[] multihash = new byte[66];
        multihash[0] = 0x13; // sha2-512
        multihash[1] = 64;
        Cid sha512 = Cid.v1(Cid.RAW, multihash);
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(ONE_CID)));
        long start = car.size();
        Varint.write(car, sha512.bytes().length + ONE.length);
        car.writeBytes(sha512.bytes());
        car.writeBytes(ONE);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertEquals("CAR section 1 (byte offset " + start + ") holds block " + sha512
                + ", whose CID is not sha2-256 (only sha2-256 is accepted)", e.getMessage());
    }

    @Test
    void roots_headerWithNoRoots_refused() {
        byte[] car = Car.header(List.of());

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(car)).roots());

        assertEquals("the CAR header names no roots", e.getMessage());
    }

    @Test
    void roots_headerNotCarV1_refused() {
        byte[] car = {3, (byte) 0xa0, 0, 0}; // length 3: an empty map, then two stray bytes

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(car)).roots());

        assertTrue(e.getMessage().startsWith("the CAR header is not a CAR v1 header: "), e.getMessage());
        assertFalse(e.getMessage().contains("dag/import"), e.getMessage());
    }

    @Test
    void read_repeatedRootsKeyInHeader_refused() throws IOException {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        byte[] header = CarTest.repeatedRootsHeader();
        Varint.write(car, header.length);
        car.writeBytes(header);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertTrue(e.getMessage().contains("repeated header key roots"), e.getMessage());
    }

    @Test
    void roots_emptyStream_refused() {
        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(InputStream.nullInputStream()).roots());

        assertEquals("the CAR is empty (no header)", e.getMessage());
    }

    @Test
    void roots_headerLengthOverLimit_refused() {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        Varint.write(car, 5L << 20);

        IpfsException e = assertThrows(IpfsException.class,
                () -> VerifyingCarReader.of(new ByteArrayInputStream(car.toByteArray())).roots());

        assertTrue(e.getMessage().contains("the length of the header") && e.getMessage().contains("over the limit"),
                e.getMessage());
    }

    @Test
    void read_errorMessages_neverContainBlockBytes() throws IOException {
        byte[] block = "secret-bytes-of-the-block".getBytes(StandardCharsets.UTF_8);
        Cid cid = Cid.sha256(Cid.RAW, UnixFs.sha256(block));
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(cid)));
        Varint.write(car, cid.bytes().length + block.length);
        car.writeBytes(cid.bytes());
        block[0] = 'S';
        car.writeBytes(block);

        IpfsException e = assertThrows(IpfsException.class, () -> drain(car.toByteArray()));

        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertFalse(e.getMessage().contains(HexFormat.of().formatHex(block, 0, 4)), e.getMessage());
    }

    private static void drain(byte[] car) throws IOException {
        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(car))) {
            reader.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }

    /** The byte offset where section {@code n} (1 based) of a well-formed CAR starts. */
    static long sectionOffset(byte[] car, int n) {
        int[] pos = {0};
        long length = Varint.read(car, pos);
        pos[0] += (int) length;
        for (int i = 1; i < n; i++) {
            length = Varint.read(car, pos);
            pos[0] += (int) length;
        }
        return pos[0];
    }

    private static byte[] append(byte[] bytes, int b) {
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        longer[bytes.length] = (byte) b;
        return longer;
    }
}
