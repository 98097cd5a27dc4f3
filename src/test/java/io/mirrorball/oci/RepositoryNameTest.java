package io.mirrorball.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

final class RepositoryNameTest {

    /** 255 characters in several components: the longest name the grammar allows. */
    private static String longName(int length) {
        StringBuilder name = new StringBuilder();
        while (name.length() < length) {
            if (name.length() > 0 && name.length() % 50 == 0 && name.length() < length - 1) {
                name.append('/');
            } else {
                name.append((char) ('a' + name.length() % 26));
            }
        }
        return name.toString();
    }

    static Stream<Arguments> validNames() {
        return Stream.of(
                Arguments.of("a", 1),
                Arguments.of("0", 1),
                Arguments.of("alpine", 1),
                Arguments.of("library/alpine", 2),
                Arguments.of("org/team/app/sub", 4),
                Arguments.of("a.b", 1),
                Arguments.of("a_b", 1),
                Arguments.of("a__b", 1),
                Arguments.of("a-b", 1),
                Arguments.of("a---b", 1),
                Arguments.of("a.b_c__d-e--f", 1),
                Arguments.of("1a/2b.c", 2),
                Arguments.of("a".repeat(255), 1),
                Arguments.of(longName(255), 6));
    }

    @ParameterizedTest
    @MethodSource("validNames")
    void parse_valid_accepted(String text, int components) {
        RepositoryName name = RepositoryName.parse(text);

        assertEquals(text, name.value());
        assertEquals(text, name.toString());
        assertEquals(components, name.components());
        assertTrue(RepositoryName.isValid(text));
    }

    static Stream<String> invalidNames() {
        return Stream.of(
                "A", "Alpine", "library/Alpine", "aB",           // upper case
                ".", "..", "a..b", "a/../b", "../a", "a/..", "a/./b", "./a", // dots, traversal
                "/a", "a/", "/", "a//b", "//a", "a/b/",          // leading, trailing, double slashes
                "-a", "a-", "_a", "a_", ".a", "a.", "a/-b", "a/b.", // leading and trailing separators
                "a___b", "a__", "__a", "a_.b", "a.-b", "a._b",  // separators outside the grammar
                "a b", " a", "a ", "a:b", "a@b", "a%2fb", "a%2e%2e", "a\\b", "a\tb", "a\n", // other characters
                "a\u00e9", "\u0430",                            // non-ASCII (Cyrillic a)
                "a".repeat(256), longName(256), "a".repeat(10_000)); // too long
    }

    @ParameterizedTest
    @MethodSource("invalidNames")
    @NullAndEmptySource
    void parse_invalid_nameInvalid(String text) {
        OciException e = assertThrows(OciException.class, () -> RepositoryName.parse(text));

        assertEquals(OciErrorCode.NAME_INVALID, e.code());
        assertEquals(400, e.code().status());
        assertFalse(RepositoryName.isValid(text));
    }

    @ParameterizedTest
    @MethodSource("invalidNames")
    void constructor_invalid_nameInvalid(String text) {
        OciException e = assertThrows(OciException.class, () -> new RepositoryName(text));

        assertEquals(OciErrorCode.NAME_INVALID, e.code());
    }

    @Test
    void parse_veryLongName_messageIsAbbreviated() {
        OciException e = assertThrows(OciException.class, () -> RepositoryName.parse("a".repeat(100_000)));

        assertTrue(e.getMessage().length() < 300, "message length " + e.getMessage().length());
    }

    @Test
    void compareTo_orderIsLexical() {
        RepositoryName a = RepositoryName.parse("a/b");
        RepositoryName b = RepositoryName.parse("a-b");
        RepositoryName c = RepositoryName.parse("ab");

        assertTrue(b.compareTo(a) < 0, "'-' sorts before '/'");
        assertTrue(a.compareTo(c) < 0);
        assertEquals(0, a.compareTo(RepositoryName.parse("a/b")));
        assertEquals(a, RepositoryName.parse("a/b"));
    }
}
