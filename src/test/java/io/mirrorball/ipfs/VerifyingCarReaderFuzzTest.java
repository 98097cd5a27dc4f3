package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Any stream through VerifyingCarReader (seeds in VerifyingCarReaderFuzzTestInputs/read_anyStream,
 * CarFuzzTest's). It fails with an IpfsException and nothing else; what it passes on is a prefix of
 * the input, all of it when it does not fail; read section by section it finds the same roots and
 * sections; and a CAR it accepts the embedded node's importer accepts too, with the same roots.
 */
final class VerifyingCarReaderFuzzTest {

    @FuzzTest
    void read_anyStream(byte[] input) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Cid> roots;
        long sections;
        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(input))) {
            reader.transferTo(out);
            roots = reader.roots();
            sections = reader.sectionsRead();
        } catch (IpfsException e) {
            byte[] passed = out.toByteArray();
            assertArrayEquals(java.util.Arrays.copyOf(input, passed.length), passed, "passed on bytes are the input's");
            assertFalse(e.getMessage().isBlank());
            return;
        }
        assertArrayEquals(input, out.toByteArray());
        assertFalse(roots.isEmpty());

        long counted = 0;
        try (VerifyingCarReader reader = VerifyingCarReader.of(new ByteArrayInputStream(input))) {
            assertEquals(roots, reader.roots());
            for (Optional<VerifyingCarReader.Section> s = reader.nextSection(); s.isPresent(); s = reader.nextSection()) {
                assertArrayEquals(s.get().cid().sha256Digest(), UnixFs.sha256(s.get().block()));
                counted++;
            }
        }
        assertEquals(sections, counted);

        if (input.length < 64 * 1024) { // Car's header limit is 64 KiB
            assertEquals(roots, Car.importCar(new ByteArrayInputStream(input), CarTest.MAX_BLOCK, (d, b, l) -> { }));
        }
    }
}
