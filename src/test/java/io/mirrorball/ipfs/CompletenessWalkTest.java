package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** CompletenessWalk on an in-memory DAG (VerifyingCarReaderTest's: a dag-pb node over two raw leaves). */
final class CompletenessWalkTest {

    @Test
    void firstMissing_completeDag_isEmpty() throws IOException {
        Map<Cid, byte[]> blocks = VerifyingCarReaderTest.blocks();

        assertEquals(Optional.empty(), CompletenessWalk.firstMissing(VerifyingCarReaderTest.NODE_CID,
                cid -> Optional.ofNullable(blocks.get(cid))));
    }

    @Test
    void firstMissing_removedLeaf_reportsThatLeaf() throws IOException {
        Map<Cid, byte[]> blocks = VerifyingCarReaderTest.blocks();
        blocks.remove(VerifyingCarReaderTest.ONE_CID);

        assertEquals(Optional.of(VerifyingCarReaderTest.ONE_CID), CompletenessWalk.firstMissing(
                VerifyingCarReaderTest.NODE_CID, cid -> Optional.ofNullable(blocks.get(cid))));
    }

    @Test
    void firstMissing_removedRoot_reportsTheRoot() throws IOException {
        Map<Cid, byte[]> blocks = VerifyingCarReaderTest.blocks();
        blocks.remove(VerifyingCarReaderTest.NODE_CID);

        assertEquals(Optional.of(VerifyingCarReaderTest.NODE_CID), CompletenessWalk.firstMissing(
                VerifyingCarReaderTest.NODE_CID, cid -> Optional.ofNullable(blocks.get(cid))));
    }

    @Test
    void firstMissing_rawLeaves_areLookedUpWithHasNotRead() throws IOException {
        Map<Cid, byte[]> blocks = VerifyingCarReaderTest.blocks();
        List<Cid> read = new ArrayList<>();
        CompletenessWalk.BlockLookup lookup = new CompletenessWalk.BlockLookup() {
            @Override
            public Optional<byte[]> find(Cid cid) {
                read.add(cid);
                return Optional.ofNullable(blocks.get(cid));
            }

            @Override
            public boolean has(Cid cid) {
                return blocks.containsKey(cid);
            }
        };

        assertEquals(Optional.empty(), CompletenessWalk.firstMissing(VerifyingCarReaderTest.NODE_CID, lookup));
        assertEquals(List.of(VerifyingCarReaderTest.NODE_CID), read);
    }

    @Test
    void firstMissing_dagPbBlockThatDoesNotDecode_isCorrupt() {
        Cid bad = Cid.sha256(Cid.DAG_PB, UnixFs.sha256(new byte[] {(byte) 0xff}));

        IpfsException e = assertThrows(IpfsException.class,
                () -> CompletenessWalk.firstMissing(bad, cid -> Optional.of(new byte[] {(byte) 0xff})));

        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().contains("is not dag-pb"), e.getMessage());
    }
}
