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
 * the stream to its end, and fails with an IOException (IpfsException), nothing else. Kubo's header
 * reader, and that it finds the same roots, is fuzzed in kubo.KuboCarFuzzTest.
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
}
