package io.mirrorball.migrate.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.oci.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class UnitsTest {
    @ParameterizedTest
    @CsvSource({
        "0, 0 B",
        "1023, 1023 B",
        "1024, 1.0 KiB",
        "8192, 8.0 KiB",
        "12897485, 12.3 MiB",
        "1048575, 1.0 MiB",
        "1610612736, 1.5 GiB",
        "-5, 0 B",
    })
    void bytes_value_isBinaryWithOneDecimal(long bytes, String expected) {
        assertEquals(expected, Units.bytes(bytes));
    }

    @ParameterizedTest
    @CsvSource({"0, 0 s", "37, 37 s", "65, 1m05s", "3599, 59m59s", "7380, 2h03m"})
    void duration_seconds_isShort(long seconds, String expected) {
        assertEquals(expected, Units.duration(seconds));
    }

    @Test
    void rate_noTime_isDash() {
        assertEquals("- B/s", Units.rate(100, 0));
    }

    @Test
    void rate_oneSecond_isBytesPerSecond() {
        assertEquals("2.0 KiB/s", Units.rate(2048, 1_000_000_000L));
    }

    @Test
    void shortDigest_sha512_keepsAlgorithmAnd12Hex() {
        assertEquals("sha512:abcdefabcdef…", Units.shortDigest(new Digest("sha512", "abcdef".repeat(21) + "ab")));
    }
}
