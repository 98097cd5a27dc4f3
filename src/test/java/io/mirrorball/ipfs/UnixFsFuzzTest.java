package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ranges of UnixFS files read from a DAG of fuzzed blocks. Input: an offset byte, a length byte
 * (255: to the end), then blocks, each a flags byte (1 raw, 2 dag-cbor, else dag-pb), a 2-byte
 * big-endian length and the bytes (seeds in UnixFsFuzzTestInputs/read_anyDag). Blocks are named by
 * their real CIDs, as a verifying block source does; as the fuzzer cannot forge hashes, the links of
 * a dag-pb block that decodes are pointed at earlier blocks (the one at Tsize modulo their number).
 * The last block is the root. The reader returns at most the bytes asked for or throws an
 * IOException, as its callers expect.
 */
final class UnixFsFuzzTest {
    /** Block fetches per input: a DAG that links the same blocks over and over is not read to its end. */
    private static final int FETCHES = 10_000;

    @FuzzTest
    void read_anyDag(byte[] input) throws IOException {
        if (input.length < 2) {
            return;
        }
        long offset = input[0] & 0xff;
        long length = (input[1] & 0xff) == 255 ? -1 : input[1] & 0xff;
        Map<Cid, byte[]> blocks = new HashMap<>();
        List<Cid> cids = new ArrayList<>();
        byte[] rootBlock = null;
        int pos = 2;
        while (pos < input.length) {
            int flags = input[pos++] & 0xff;
            int size = pos + 1 < input.length ? ((input[pos] & 0xff) << 8) | (input[pos + 1] & 0xff) : 0;
            pos = Math.min(pos + 2, input.length);
            byte[] block = Arrays.copyOfRange(input, pos, Math.min(input.length, pos + size));
            pos += block.length;
            long codec = (flags & 3) == 1 ? Cid.RAW : (flags & 3) == 2 ? Cid.DAG_CBOR : Cid.DAG_PB;
            if (codec == Cid.DAG_PB && !cids.isEmpty()) {
                block = relinked(block, cids);
            }
            Cid cid = Cid.sha256(codec, UnixFs.sha256(block));
            blocks.put(cid, block);
            cids.add(cid);
            rootBlock = block;
        }
        if (cids.isEmpty()) {
            return;
        }
        Cid root = cids.get(cids.size() - 1);
        int[] fetches = {0};
        UnixFsReader.BlockSource source = cid -> {
            if (++fetches[0] > FETCHES) {
                throw new IpfsException(IpfsException.Kind.FAILED, "fetch budget of the fuzz test used up");
            }
            byte[] block = blocks.get(cid);
            if (block == null) {
                throw new IpfsNotFoundException("no block " + cid);
            }
            return block;
        };
        byte[] read;
        try (UnixFsReader reader = UnixFsReader.open(source, root, offset, length)) {
            read = reader.readNBytes(1 << 20);
        } catch (IOException e) {
            return; // IpfsException and its subclasses: the documented failure
        }
        if (length >= 0) {
            assertTrue(read.length <= length, read.length + " bytes read, " + length + " asked for");
        }
        if (root.codec() == Cid.RAW) {
            int from = (int) Math.min(offset, rootBlock.length);
            int to = length < 0 ? rootBlock.length : (int) Math.min(rootBlock.length, from + length);
            assertArrayEquals(Arrays.copyOfRange(rootBlock, from, to), read);
        }
    }

    private static byte[] relinked(byte[] block, List<Cid> earlier) {
        DagPb.Decoded node;
        try {
            node = DagPb.decode(block);
        } catch (IllegalArgumentException e) {
            return block;
        }
        List<DagPb.Link> links = new ArrayList<>();
        for (DagPb.Link link : node.links()) {
            Cid target = earlier.get((int) Long.remainderUnsigned(link.size(), earlier.size()));
            links.add(new DagPb.Link(link.name(), target, link.size()));
        }
        return DagPb.encodeNode(node.data(), links);
    }
}
