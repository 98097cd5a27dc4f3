package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class LogTextTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            plain/path?x=1        | plain/path?x=1
            back\\slash           | back\\\\slash
            """)
    void escape_printable_unchangedButBackslash(String in, String out) {
        assertEquals(out, LogText.escape(in));
    }

    @org.junit.jupiter.api.Test
    void escape_controlAndLineSeparators_escaped() {
        assertEquals("a\\r\\nb\\tc\\u001bd\\u2028e\\u0085f\\u007f", LogText.escape("a\r\nb\tc\u001bd\u2028e\u0085f\u007f"));
        assertEquals("-", LogText.escape(null));
    }

    @org.junit.jupiter.api.Test
    void escape_long_cutWithLength() {
        String logged = LogText.escape("x".repeat(5000));
        assertTrue(logged.startsWith("x".repeat(LogText.MAX) + "...(5000 chars)"), logged);
    }
}
