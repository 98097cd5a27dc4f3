package io.mirrorball.web;

import static io.mirrorball.testing.FuzzInput.afterFirstLine;
import static io.mirrorball.testing.FuzzInput.firstLine;
import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.util.Optional;

/**
 * The Range header of a blob GET and the Content-Range header of an upload chunk. Input: the
 * header on the first line, the blob size after it (seeds in ByteRangeFuzzTestInputs/parse_anyHeader).
 */
final class ByteRangeFuzzTest {

    @FuzzTest
    void parse_anyHeader(byte[] input) {
        String header = firstLine(input);
        long size = size(text(afterFirstLine(input)));

        try {
            Optional<ByteRange> range = ByteRange.parseRequest(header, size);
            range.ifPresent(r -> {
                assertTrue(r.offset() >= 0 && r.length() >= 1, r::toString);
                assertTrue(r.offset() <= size - r.length(), () -> r + " beyond " + size);
                assertEquals(r.offset() + r.length() - 1, r.last());
            });
        } catch (OciException e) {
            assertEquals(OciErrorCode.RANGE_NOT_SATISFIABLE, e.code());
            assertEquals("bytes */" + size, e.headers().get("Content-Range"));
        }

        try {
            ByteRange chunk = ByteRange.parseChunk(header);
            assertTrue(chunk.offset() >= 0 && chunk.length() >= 1, chunk::toString);
            assertTrue(chunk.last() >= chunk.offset(), chunk::toString);
        } catch (OciException e) {
            assertEquals(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, e.code());
        }
    }

    /** A non-negative blob size from the text; 0 when it is not a number. */
    private static long size(String text) {
        try {
            return Math.max(0, Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
