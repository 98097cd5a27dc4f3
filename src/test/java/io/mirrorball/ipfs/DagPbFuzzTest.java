package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * dag-pb blocks as they come from the network or a CAR, and the UnixFS Data inside them. Input: the
 * block (seeds in DagPbFuzzTestInputs/decode_anyBlock). A decoded node encodes to a block that
 * decodes to the same node.
 */
final class DagPbFuzzTest {

    @FuzzTest
    void decode_anyBlock(byte[] block) {
        DagPb.Decoded node;
        try {
            node = DagPb.decode(block);
        } catch (IllegalArgumentException e) {
            return;
        }
        byte[] encoded = DagPb.encodeNode(node.data(), node.links());
        assertEquals(node, DagPb.decode(encoded));

        UnixFs.Meta meta;
        try {
            meta = UnixFs.parse(node.data());
        } catch (IllegalArgumentException e) {
            return;
        }
        assertTrue(meta.type() >= 0 && meta.type() <= 5);
        assertTrue(meta.isFile() || meta.isDirectory() || meta.type() >= 3);
        meta.contentSize();
    }
}
