package io.mirrorball.migrate.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which tags of a repository are copied ({@code --include}, {@code --exclude}, {@code --semver}): a tag
 * is taken when it matches some include pattern (any tag when there is none), no exclude pattern, and
 * the semver range when one is given. Patterns are Java regular expressions matched against the whole
 * tag ({@code 1\.2.*}, not {@code 1\.2}). Also used for repository names ({@code --repos},
 * {@code --skip-repos}; see {@link #names}).
 */
public final class TagFilter implements Predicate<String> {
    private final List<Pattern> include;
    private final List<Pattern> exclude;
    private final Optional<SemverRange> semver;

    private TagFilter(List<Pattern> include, List<Pattern> exclude, Optional<SemverRange> semver) {
        this.include = include;
        this.exclude = exclude;
        this.semver = semver;
    }

    /** Takes every tag. */
    public static TagFilter all() {
        return new TagFilter(List.of(), List.of(), Optional.empty());
    }

    /**
     * A filter from the options; a bad pattern or range is an IllegalArgumentException quoting it.
     *
     * @param semver a {@link SemverRange} or null for none
     */
    public static TagFilter of(List<String> include, List<String> exclude, String semver) {
        return new TagFilter(compile("--include", include), compile("--exclude", exclude),
                semver == null ? Optional.empty() : Optional.of(SemverRange.parse(semver)));
    }

    /** A name filter without a range: {@code --repos} and {@code --skip-repos} for catalog repositories. */
    public static TagFilter names(List<String> include, List<String> exclude) {
        return new TagFilter(compile("--repos", include), compile("--skip-repos", exclude), Optional.empty());
    }

    @Override
    public boolean test(String tag) {
        if (!include.isEmpty() && include.stream().noneMatch(p -> p.matcher(tag).matches())) {
            return false;
        }
        if (exclude.stream().anyMatch(p -> p.matcher(tag).matches())) {
            return false;
        }
        return semver.map(range -> range.test(tag)).orElse(true);
    }

    private static List<Pattern> compile(String option, List<String> regexes) {
        List<Pattern> patterns = new ArrayList<>();
        for (String regex : regexes == null ? List.<String>of() : regexes) {
            try {
                patterns.add(Pattern.compile(regex));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("invalid " + option + " pattern \"" + regex + "\": "
                        + e.getDescription());
            }
        }
        return List.copyOf(patterns);
    }
}
