package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.testing.FaultyNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class VerifiedRangeTest {
    private static final int CHUNK = 262_144;
    @TempDir
    Path tmp;

    private static byte[] content() {
        byte[] bytes = new byte[3 * CHUNK + 1000];
        new Random(5).nextBytes(bytes);
        return bytes;
    }

    @ParameterizedTest
    @CsvSource({"0, 10", "262140, 10", "262144, 262144", "786430, 1002", "5, -1", "0, 787432"})
    void open_readsTheRangeAcrossBlocks(long offset, long length) throws IOException {
        byte[] content = content();
        try (EmbeddedNode node = EmbeddedNode.open(tmp.resolve("ipfs"))) {
            Cid root = node.add(new ByteArrayInputStream(content)).cid();
            try (InputStream in = VerifiedRange.open(node, root, offset, length)) {
                int end = length < 0 ? content.length : (int) (offset + length);
                assertArrayEquals(Arrays.copyOfRange(content, (int) offset, end), in.readAllBytes());
            }
        }
    }

    @Test
    void open_tamperedLeaf_isCorruptBeforeAnyByteOfIt() throws IOException {
        byte[] content = content();
        try (FaultyNode node = new FaultyNode(EmbeddedNode.open(tmp.resolve("ipfs")))) {
            Cid root = node.add(new ByteArrayInputStream(content)).cid();
            Cid secondLeaf = DagPb.decode(node.blockGet(root)).links().get(1).cid();
            node.tamperWith(secondLeaf);
            try (InputStream in = VerifiedRange.open(node, root, 0, -1)) {
                byte[] first = in.readNBytes(CHUNK);
                assertArrayEquals(Arrays.copyOf(content, CHUNK), first, "the good first leaf is served");
                IpfsException e = assertThrows(IpfsException.class, in::read);
                assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            }
        }
    }
}
