package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class SemverRangeTest {
    private static final List<String> TAGS = List.of("0.0.1", "0.0.2", "0.1.0", "0.2.5", "0.9", "1", "1.0.0-rc.1",
            "1.0.0", "v1.1.0", "1.2", "1.2.3-beta.2", "1.2.3", "1.2.4", "1.3.0-alpha", "1.3.0", "1.10.0", "2.0.0-rc.1",
            "2.0.0", "2.1", "3.0.0", "latest", "1.2.3_fix", "stable-1.2", "1.2.3.4", "7.2-alpine");

    static Stream<Arguments> ranges() {
        return Stream.of(
                Arguments.of("*", "0.0.1 0.0.2 0.1.0 0.2.5 0.9 1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0 2.0.0 2.1 3.0.0"),
                Arguments.of("", "0.0.1 0.0.2 0.1.0 0.2.5 0.9 1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0 2.0.0 2.1 3.0.0"),
                Arguments.of("1.2.3", "1.2.3"),
                Arguments.of("=1.2.3", "1.2.3"),
                Arguments.of("v1.2.3", "1.2.3"),
                Arguments.of("1.2", "1.2 1.2.3 1.2.4"),
                Arguments.of("1.2.x", "1.2 1.2.3 1.2.4"),
                Arguments.of("1", "1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("1.X", "1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("1.*.*", "1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of(">1.2.3", "1.2.4 1.3.0 1.10.0 2.0.0 2.1 3.0.0"),
                Arguments.of(">1.2", "1.3.0 1.10.0 2.0.0 2.1 3.0.0"),
                Arguments.of(">1", "2.0.0 2.1 3.0.0"),
                Arguments.of(">=2", "2.0.0 2.1 3.0.0"),
                Arguments.of(">= 2.1", "2.1 3.0.0"),
                Arguments.of("<0.2", "0.0.1 0.0.2 0.1.0"),
                Arguments.of("<0.2.5", "0.0.1 0.0.2 0.1.0"),
                Arguments.of("<=0.2", "0.0.1 0.0.2 0.1.0 0.2.5"),
                Arguments.of("<=0.2.5", "0.0.1 0.0.2 0.1.0 0.2.5"),
                Arguments.of("<=1", "0.0.1 0.0.2 0.1.0 0.2.5 0.9 1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("~1.2.3", "1.2.3 1.2.4"),
                Arguments.of("~1.2", "1.2 1.2.3 1.2.4"),
                Arguments.of("~1", "1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("^1.2.3", "1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("^1.2", "1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("^0.2.3", "0.2.5"),
                Arguments.of("^0.0.1", "0.0.1"),
                Arguments.of("^0.0", "0.0.1 0.0.2"),
                Arguments.of("^0.x", "0.0.1 0.0.2 0.1.0 0.2.5 0.9"),
                Arguments.of(">=1.2 <2", "1.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("^1.2 || >=3", "1.2 1.2.3 1.2.4 1.3.0 1.10.0 3.0.0"),
                Arguments.of("<1||>2.0.0", "0.0.1 0.0.2 0.1.0 0.2.5 0.9 2.1 3.0.0"),
                Arguments.of(">*", ""),
                Arguments.of("<*", ""),
                // pre-releases only with a comparator that names one of the same version
                Arguments.of(">=1.0.0-rc.0 <1.1", "1 1.0.0-rc.1 1.0.0"),
                Arguments.of("^1.2.3-beta.1", "1.2.3-beta.2 1.2.3 1.2.4 1.3.0 1.10.0"),
                Arguments.of("~1.2.3-beta.3", "1.2.3 1.2.4"),
                Arguments.of("2.0.0-rc.1", "2.0.0-rc.1"),
                Arguments.of(">=2.0.0-rc.1 || 7.2.0-alpine", "2.0.0-rc.1 2.0.0 2.1 3.0.0 7.2-alpine"),
                Arguments.of(">=1.0.0-rc.0 || >=1.3.0-a", "1 1.0.0-rc.1 1.0.0 v1.1.0 1.2 1.2.3 1.2.4 1.3.0-alpha 1.3.0"
                        + " 1.10.0 2.0.0 2.1 3.0.0"));
    }

    @ParameterizedTest
    @MethodSource("ranges")
    void test_range_takesExactlyTheseTags(String range, String expected) {
        SemverRange r = SemverRange.parse(range);
        List<String> taken = TAGS.stream().filter(r).toList();
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected.split(" ")), taken, range);
    }

    @ParameterizedTest
    @ValueSource(strings = {"latest", "stable-1.2", "1.2.3.4", "1.2.3_fix", "", "v", "1.", "x", "1.2.3+build"})
    void test_notAVersion_failsEveryRange(String tag) {
        assertEquals(false, SemverRange.parse("*").test(tag));
        assertEquals(false, SemverRange.parse(">=0.0.0-0").test(tag));
    }

    @ParameterizedTest
    @CsvSource({
            "1.0.0-alpha, 1.0.0-alpha.1", "1.0.0-alpha.1, 1.0.0-alpha.beta", "1.0.0-alpha.beta, 1.0.0-beta",
            "1.0.0-beta, 1.0.0-beta.2", "1.0.0-beta.2, 1.0.0-beta.11", "1.0.0-beta.11, 1.0.0-rc.1",
            "1.0.0-rc.1, 1.0.0", "1.9.0, 1.10.0", "1.0.0, 2.0.0-0"})
    void compareTo_semverPrecedence(String lower, String higher) {
        SemverRange.Version a = SemverRange.Version.parseTag(lower).orElseThrow();
        SemverRange.Version b = SemverRange.Version.parseTag(higher).orElseThrow();
        assertTrue(a.compareTo(b) < 0, lower + " < " + higher);
        assertTrue(b.compareTo(a) > 0, higher + " > " + lower);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", ">", ">= ", "1.2.3.4", "1 - 2", "=>1", "^^1", "1.2-rc.1", "~>1.2",
            "99999999999999999999", ">=1.2.3 ||| 2", "1.2.3-", "1.2.3-a..b", "v1.x-beta"})
    void parse_invalid_throwsQuotingRange(String range) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SemverRange.parse(range));
        assertTrue(e.getMessage().contains("\"" + range + "\""), e.getMessage());
    }

    @Test
    void toString_isTheRangeAsGiven() {
        assertEquals("^1.2 || >=3", SemverRange.parse("^1.2 || >=3").toString());
    }
}
