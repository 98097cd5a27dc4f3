package io.mirrorball.ipfs.kubo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mirrorball.ipfs.Car;
import io.mirrorball.ipfs.Cid;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;

/**
 * CAR v1 streams as Kubo's dag/import receives them through KuboRpcNode. Input: the stream (seeds in
 * KuboCarFuzzTestInputs/readHeader_anyStream, the seeds of CarFuzzTest). The header reader for Kubo
 * (KuboCar) fails with an IOException or IllegalArgumentException, nothing else, and finds the same
 * roots as the embedded node's reader (Car) wherever both accept a header.
 */
final class KuboCarFuzzTest {

    @FuzzTest
    void readHeader_anyStream(byte[] input) {
        KuboCar kubo;
        try {
            kubo = KuboCar.readHeader(new ByteArrayInputStream(input));
        } catch (IOException | IllegalArgumentException e) {
            return; // not a CAR header: KuboCar's documented failures
        }
        List<Cid> roots;
        try {
            // the header as read (length included) is a CAR without blocks: Car's import returns its roots
            roots = Car.importCar(new ByteArrayInputStream(kubo.raw()), 0, (digest, block, length) -> {
                throw new AssertionError("a CAR header alone has no blocks");
            });
        } catch (IOException e) {
            return; // Car asks more of a header (roots present), as the embedded node imports it
        }
        assertEquals(roots, kubo.roots(), "the two CAR header readers disagree");
    }
}
