package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

final class TagFilterTest {
    private static final List<String> TAGS = List.of("latest", "1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0", "1.1.0-alpine",
            "dev-1", "nightly");

    private static List<String> take(TagFilter filter) {
        return TAGS.stream().filter(filter).toList();
    }

    @Test
    void test_none_takesEveryTag() {
        assertEquals(TAGS, take(TagFilter.all()));
        assertEquals(TAGS, take(TagFilter.of(List.of(), List.of(), null)));
    }

    @Test
    void test_include_isAnchored() {
        assertEquals(List.of("1.0.0", "1.1.0"), take(TagFilter.of(List.of("1\\.[0-9]+\\.[0-9]+"), List.of(), null)));
        assertEquals(List.of(), take(TagFilter.of(List.of("1\\.1"), List.of(), null)));
        assertEquals(List.of("latest", "nightly"), take(TagFilter.of(List.of("latest", "night.*"), List.of(), null)));
    }

    @Test
    void test_exclude_isAnchoredAndWins() {
        assertEquals(List.of("latest", "1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0", "1.1.0-alpine", "nightly"),
                take(TagFilter.of(List.of(), List.of("dev-.*", "night"), null)));
        assertEquals(List.of("1.0.0"), take(TagFilter.of(List.of("1\\..*"), List.of(".*-alpine", "1\\.1\\.0"), null)));
    }

    @Test
    void test_semver_andedWithPatterns() {
        assertEquals(List.of("1.0.0", "1.1.0", "2.0.0"), take(TagFilter.of(List.of(), List.of(), ">=1")));
        assertEquals(List.of("1.1.0", "2.0.0"), take(TagFilter.of(List.of(), List.of("1\\.0\\.0"), ">=1")));
        assertEquals(List.of("2.0.0-rc.1", "2.0.0"), take(TagFilter.of(List.of("2.*"), List.of(), ">=2.0.0-rc.0")));
    }

    @Test
    void names_filtersRepositories() {
        TagFilter repos = TagFilter.names(List.of("team/.*"), List.of("team/old-.*"));
        assertTrue(repos.test("team/app"));
        assertEquals(false, repos.test("team/old-app"));
        assertEquals(false, repos.test("other/team/app"));
    }

    @Test
    void of_badPatternOrRange_throwsQuotingIt() {
        IllegalArgumentException include = assertThrows(IllegalArgumentException.class,
                () -> TagFilter.of(List.of("v[0-9"), List.of(), null));
        assertTrue(include.getMessage().contains("--include pattern \"v[0-9\""), include.getMessage());
        IllegalArgumentException exclude = assertThrows(IllegalArgumentException.class,
                () -> TagFilter.of(List.of(), List.of("(*)"), null));
        assertTrue(exclude.getMessage().contains("--exclude pattern \"(*)\""), exclude.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> TagFilter.of(List.of(), List.of(), ">=one"));
        assertTrue(range.getMessage().contains("\">=one\""), range.getMessage());
    }
}
