package io.mirrorball.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.OciException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Helpers of the fuzz tests (*FuzzTest, run by Jazzer: docs/fuzzing.md). Their inputs are plain
 * bytes, so that the seed files under src/test/resources/.../*FuzzTestInputs are readable
 * examples: a parser with two arguments gets the first line and the rest.
 */
public final class FuzzInput {
    private FuzzInput() {
    }

    /** The input as UTF-8 text (malformed bytes become U+FFFD). */
    public static String text(byte[] input) {
        return new String(input, StandardCharsets.UTF_8);
    }

    /** The text up to the first newline (all of it without one). */
    public static String firstLine(byte[] input) {
        int nl = newline(input);
        return text(nl < 0 ? input : Arrays.copyOf(input, nl));
    }

    /** The bytes after the first newline (none without one). */
    public static byte[] afterFirstLine(byte[] input) {
        int nl = newline(input);
        return nl < 0 ? new byte[0] : Arrays.copyOfRange(input, nl + 1, input.length);
    }

    /** The documented failure of every OCI parser: an OciException that becomes a 4xx response. */
    public static void assertClientError(OciException e) {
        int status = e.code().status();
        assertTrue(status >= 400 && status < 500, () -> "status " + status + " for " + e.getMessage());
    }

    private static int newline(byte[] input) {
        for (int i = 0; i < input.length; i++) {
            if (input[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
