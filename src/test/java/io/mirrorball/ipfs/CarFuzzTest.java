package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * CAR v1 streams as dag/import receives them. Input: the stream (seeds in
 * CarFuzzTestInputs/importCar_anyStream). Import stores only blocks that match their CIDs, reads
 * the stream to its end, and fails with an IOException (IpfsException), nothing else. The header
 * reader for Kubo (KuboCar) fails with an IOException or IllegalArgumentException, and finds the
 * same roots as the embedded node's wherever both accept a header.
 */
final class CarFuzzTest {

    @FuzzTest
    void importCar_anyStream(byte[] input) throws IOException {
        try {
            List<Cid> roots = Car.parseHeader(input);
            assertTrue(roots.stream().allMatch(r -> r.version() == 0 || r.version() == 1));
        } catch (IpfsException e) {
            // not a CAR header: the documented failure
        }

        try {
            KuboCar kubo = KuboCar.readHeader(new ByteArrayInputStream(input));
            byte[] header = Arrays.copyOfRange(kubo.raw(), kubo.raw().length - headerLength(input), kubo.raw().length);
            List<Cid> roots;
            try {
                roots = Car.parseHeader(header);
            } catch (IpfsException e) {
                roots = null; // Car asks more of a header (roots present), as the embedded node imports it
            }
            if (roots != null) {
                assertEquals(roots, kubo.roots(), "the two CAR header readers disagree");
            }
        } catch (IOException | IllegalArgumentException e) {
            // not a CAR header: KuboCar's documented failures
        }

        ByteArrayInputStream in = new ByteArrayInputStream(input);
        int[] blocks = {0};
        Car.BlockTarget target = (digest, block, length) -> {
            assertEquals(block.length, length);
            assertArrayEquals(digest, UnixFs.sha256(Arrays.copyOf(block, length)));
            blocks[0]++;
        };
        try {
            Car.importCar(in, CarTest.MAX_BLOCK, target);
        } catch (IOException e) {
            return;
        }
        assertEquals(0, in.available(), "import stopped before the end of the stream");
    }

    /** The header length that the varint at the start of the input gives (KuboCar has checked it). */
    private static int headerLength(byte[] input) {
        long length = 0;
        for (int i = 0, shift = 0; ; i++, shift += 7) {
            length |= (long) (input[i] & 0x7f) << shift;
            if ((input[i] & 0x80) == 0) {
                return (int) length;
            }
        }
    }
}
