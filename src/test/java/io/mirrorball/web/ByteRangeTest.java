package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class ByteRangeTest {

    @ParameterizedTest
    @CsvSource({
            "bytes=0-0, 100, 0, 1",
            "bytes=0-99, 100, 0, 100",
            "bytes=10-, 100, 10, 90",
            "bytes=-10, 100, 90, 10",
            "bytes=-1000, 100, 0, 100",
            "bytes=50-5000, 100, 50, 50",
            "bytes=99-99, 100, 99, 1",
    })
    void parseRequest_satisfiable(String header, long size, long offset, long length) {
        assertEquals(Optional.of(new ByteRange(offset, length)), ByteRange.parseRequest(header, size));
    }

    @ParameterizedTest
    @CsvSource({"bytes=100-, 100", "bytes=100-200, 100", "bytes=-0, 100", "bytes=0-, 0"})
    void parseRequest_unsatisfiable(String header, long size) {
        OciException e = assertThrows(OciException.class, () -> ByteRange.parseRequest(header, size));
        assertEquals(OciErrorCode.RANGE_NOT_SATISFIABLE, e.code());
        assertEquals("bytes */" + size, e.headers().get("Content-Range"));
    }

    @ParameterizedTest
    @CsvSource({"'bytes=0-1,5-6'", "items=0-1", "bytes=-", "garbage"})
    void parseRequest_ignored(String header) {
        assertTrue(ByteRange.parseRequest(header, 100).isEmpty());
    }

    /** Issue 9: {@code bytes=500-0} was ignored (200 with the whole blob) instead of 416. */
    @ParameterizedTest
    @CsvSource({"bytes=500-0, 1000", "bytes=5-1, 100", "bytes=1-0, 100", "bytes=200-100, 100"})
    void parseRequest_lastBeforeFirst_416(String header, long size) {
        OciException e = assertThrows(OciException.class, () -> ByteRange.parseRequest(header, size));
        assertEquals(OciErrorCode.RANGE_NOT_SATISFIABLE, e.code());
        assertEquals("bytes */" + size, e.headers().get("Content-Range"));
    }

    @ParameterizedTest
    @CsvSource({"0-99, 0, 100", "100-199, 100, 100", "bytes=5-5, 5, 1", "0-9/*, 0, 10", "0-9/10, 0, 10"})
    void parseChunk_valid(String header, long offset, long length) {
        assertEquals(new ByteRange(offset, length), ByteRange.parseChunk(header));
    }

    /**
     * Found with ByteRangeFuzzTest's property (a chunk is at least a byte long): 0-9223372036854775807
     * was a chunk of length Long.MIN_VALUE.
     */
    @ParameterizedTest
    @CsvSource({"0-9223372036854775807", "bytes=0-9223372036854775807/*"})
    void parseChunk_lengthPastLongMax_isInvalidNotNegative(String header) {
        OciException e = assertThrows(OciException.class, () -> ByteRange.parseChunk(header));
        assertEquals(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, e.code());
        assertEquals(new ByteRange(1, Long.MAX_VALUE), ByteRange.parseChunk("1-9223372036854775807"));
    }

    @ParameterizedTest
    @CsvSource({"9-0", "abc", "-5", "5-", "1-2-3"})
    void parseChunk_invalid(String header) {
        OciException e = assertThrows(OciException.class, () -> ByteRange.parseChunk(header));
        assertEquals(416, e.code().status());
    }
}
