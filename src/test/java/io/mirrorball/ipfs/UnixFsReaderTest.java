package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** UnixFS file reading on crafted blocks (the reading of real files is in EmbeddedNodeTest). */
final class UnixFsReaderTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.UTF_8);
    private static final Cid HELLO_CID = Cid.sha256(Cid.RAW, UnixFs.sha256(HELLO));

    @Test
    void open_rangeOfFileOfRawLeaves_readsThoseBytes() throws Exception {
        byte[] node = DagPb.encodeNode(UnixFs.fileData(new long[] {5, 5}, 2),
                List.of(new DagPb.Link("", HELLO_CID, 5), new DagPb.Link("", HELLO_CID, 5)));
        Cid root = UnixFs.cidOf(node);
        Map<Cid, byte[]> blocks = Map.of(HELLO_CID, HELLO, root, node);

        try (UnixFsReader reader = UnixFsReader.open(blocks::get, root, 3, 4)) {
            assertArrayEquals("lohe".getBytes(StandardCharsets.UTF_8), reader.readAllBytes());
        }
    }

    /**
     * Found writing UnixFsFuzzTest (the input is one of its seeds): blocksizes past Long.MAX_VALUE
     * (uint64 on the wire) read as negative, the seek wrapped around to a negative position and read()
     * threw ArrayIndexOutOfBoundsException.
     */
    @Test
    void open_blocksizesPastLongMax_failsAsNotUnixFsNotIndexOutOfBounds() {
        byte[] node = DagPb.encodeNode(UnixFs.fileData(new long[] {-Long.MAX_VALUE, -(1L << 32), 5}, 3),
                List.of(new DagPb.Link("", HELLO_CID, 5), new DagPb.Link("", HELLO_CID, 5),
                        new DagPb.Link("", HELLO_CID, 5)));
        Cid root = UnixFs.cidOf(node);
        Map<Cid, byte[]> blocks = Map.of(HELLO_CID, HELLO, root, node);

        IpfsException e = assertThrows(IpfsException.class, () -> {
            try (UnixFsReader reader = UnixFsReader.open(blocks::get, root, 0, -1)) {
                reader.readAllBytes();
            }
        });
        assertEquals(IpfsException.Kind.FAILED, e.kind());
        assertThrows(IllegalArgumentException.class, () -> UnixFs.parse(DagPb.decode(node).data()));
    }
}
