package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CAR v1 parsing on crafted streams (the round trip through a node is in EmbeddedNodeTest). */
final class CarTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.UTF_8);
    private static final Cid HELLO_CID = Cid.sha256(Cid.RAW, UnixFs.sha256(HELLO));
    /** The embedded node's block limit. */
    static final int MAX_BLOCK = 2 * 1024 * 1024;

    @Test
    void importCar_validStream_storesVerifiedBlocksAndReturnsRoots() throws Exception {
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(HELLO_CID)));
        section(car, HELLO_CID.bytes(), HELLO);
        List<String> stored = new ArrayList<>();

        List<Cid> roots = Car.importCar(new ByteArrayInputStream(car.toByteArray()), MAX_BLOCK,
                (digest, block, length) -> stored.add(new String(block, 0, length, StandardCharsets.UTF_8)));

        assertEquals(List.of(HELLO_CID), roots);
        assertEquals(List.of("hello"), stored);
    }

    /**
     * Found writing CarFuzzTest (the input is one of its seeds): a multihash length past
     * Long.MAX_VALUE threw NegativeArraySizeException.
     */
    @Test
    void importCar_negativeMultihashLength_failsAsInvalidCidNotNegativeArraySize() {
        ByteArrayOutputStream cid = new ByteArrayOutputStream();
        cid.write(1);
        cid.write((int) Cid.RAW);
        cid.write(Cid.SHA2_256);
        Varint.write(cid, -100L);
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.writeBytes(Car.header(List.of(HELLO_CID)));
        section(car, cid.toByteArray(), HELLO);

        IpfsException e = assertThrows(IpfsException.class, () -> Car.importCar(
                new ByteArrayInputStream(car.toByteArray()), MAX_BLOCK, (digest, block, length) -> { }));
        assertTrue(e.getMessage().contains("invalid CID in CAR section"), e.getMessage());
    }

    /** Found writing CarFuzzTest: a root cut off by the end of the header was padded with zeros into a CID. */
    @Test
    void parseHeader_rootCutOffByHeaderEnd_isInvalidNotZeroPadded() {
        byte[] root = HELLO_CID.bytes();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.write(0xa2);
        text(header, "version");
        header.write(1);
        text(header, "roots");
        header.write(0x82);
        for (int length : new int[] {root.length, 10}) {
            header.write(0xd8);
            header.write(42);
            header.write(0x58);
            header.write(root.length + 1);
            header.write(0);
            header.write(root, 0, length);
        }

        IpfsException e = assertThrows(IpfsException.class, () -> Car.parseHeader(header.toByteArray()));
        assertTrue(e.getMessage().contains("invalid CAR header"), e.getMessage());
    }

    /**
     * Found writing CarFuzzTest's property (both header readers find the same roots): with the key roots
     * twice, the embedded node's reader kept the last list and Kubo's reader joined both (Kubo's half
     * is in kubo.KuboCarTest).
     */
    @Test
    void parseHeader_repeatedRootsKey_isInvalid() {
        byte[] header = repeatedRootsHeader();

        IpfsException e = assertThrows(IpfsException.class, () -> Car.parseHeader(header));
        assertTrue(e.getMessage().contains("repeated header key roots"), e.getMessage());
    }

    /** {roots: [hello], roots: [hello], version: 1} */
    static byte[] repeatedRootsHeader() {
        byte[] root = HELLO_CID.bytes();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.write(0xa3);
        for (int i = 0; i < 2; i++) {
            text(header, "roots");
            header.write(0x81);
            header.write(0xd8);
            header.write(42);
            header.write(0x58);
            header.write(root.length + 1);
            header.write(0);
            header.writeBytes(root);
        }
        text(header, "version");
        header.write(1);
        return header.toByteArray();
    }

    private static void section(ByteArrayOutputStream car, byte[] cid, byte[] block) {
        Varint.write(car, cid.length + block.length);
        car.writeBytes(cid);
        car.writeBytes(block);
    }

    private static void text(ByteArrayOutputStream out, String text) {
        out.write(0x60 + text.length());
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
