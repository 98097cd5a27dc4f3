package io.mirrorball.migrate.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic-version range over tags ({@code --semver}), with npm's grammar and rules, in our own code.
 *
 * <p>Range: comparator sets joined by {@code ||} (OR); a set is comparators separated by blanks
 * (AND). A comparator is an optional operator ({@code = > >= < <=}, or {@code ^} or {@code ~}) and a
 * version with an optional leading {@code v}, which may be partial ({@code 1}, {@code 1.2}) or hold
 * wildcards ({@code x}, {@code X}, {@code *}): {@code 1.2} and {@code 1.2.x} are
 * {@code >=1.2.0 <1.3.0-0}; {@code ~1.2.3} is {@code >=1.2.3 <1.3.0-0}; {@code ^1.2.3} is
 * {@code >=1.2.3 <2.0.0-0}, {@code ^0.2.3} {@code >=0.2.3 <0.3.0-0}, {@code ^0.0.3}
 * {@code >=0.0.3 <0.0.4-0}; {@code >1.2} is {@code >=1.3.0}; {@code <=1.2} is {@code <1.3.0-0};
 * {@code *} or an empty range is any version.
 *
 * <p>Tags: a tag is a version when it is an optional {@code v}, one to three numbers and an optional
 * {@code -pre.release} ({@code 3.19} is 3.19.0); any other tag fails every range. A pre-release tag
 * ({@code 1.0.0-rc.1}, also {@code 7.2-alpine}) matches only when some comparator of the same set names
 * a pre-release of the same major.minor.patch ({@code >=1.0.0-rc.0}), as npm does.
 */
public final class SemverRange implements Predicate<String> {
    private static final String XR = "(x|X|\\*|[0-9]+)";
    private static final String PRE = "(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?";
    private static final Pattern PARTIAL = Pattern.compile(
            "[vV]?" + XR + "(?:\\." + XR + "(?:\\." + XR + PRE + "(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?)?)?");
    private static final Pattern TAG = Pattern.compile(
            "[vV]?([0-9]+)(?:\\.([0-9]+)(?:\\.([0-9]+))?)?" + PRE);
    private static final Pattern OPERATOR = Pattern.compile("(>=|<=|>|<|=|\\^|~)?(.*)");
    private static final int MAX_LENGTH = 1024;

    private final String text;
    private final List<List<Comparator>> sets;

    private SemverRange(String text, List<List<Comparator>> sets) {
        this.text = text;
        this.sets = sets;
    }

    /** Parses a range; invalid text is an IllegalArgumentException quoting it. */
    public static SemverRange parse(String text) {
        if (text == null || text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("invalid semver range: missing or over " + MAX_LENGTH + " characters");
        }
        List<List<Comparator>> sets = new ArrayList<>();
        for (String set : text.split("\\|\\|", -1)) {
            sets.add(parseSet(text, set));
        }
        return new SemverRange(text, List.copyOf(sets));
    }

    /** Whether the tag is a version in this range (a tag that is no version is not). */
    @Override
    public boolean test(String tag) {
        Optional<Version> version = Version.parseTag(tag);
        return version.isPresent() && matches(version.get());
    }

    boolean matches(Version version) {
        for (List<Comparator> set : sets) {
            if (matchesSet(set, version)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesSet(List<Comparator> set, Version version) {
        for (Comparator c : set) {
            if (!c.test(version)) {
                return false;
            }
        }
        if (version.pre().isEmpty()) {
            return true;
        }
        for (Comparator c : set) {
            if (!c.version().pre().isEmpty() && c.version().sameRelease(version)) {
                return true;
            }
        }
        return false;
    }

    private static List<Comparator> parseSet(String range, String set) {
        List<String> tokens = new ArrayList<>();
        String pendingOperator = null;
        for (String token : set.trim().split("\\s+")) {
            if (token.isEmpty()) {
                continue;
            }
            if (pendingOperator != null) {
                token = pendingOperator + token;
                pendingOperator = null;
            }
            if (token.matches(">=|<=|>|<|=|\\^|~")) {
                pendingOperator = token;
                continue;
            }
            tokens.add(token);
        }
        if (pendingOperator != null) {
            throw invalid(range, "operator " + pendingOperator + " without a version");
        }
        List<Comparator> comparators = new ArrayList<>();
        if (tokens.isEmpty()) {
            comparators.add(new Comparator(Op.GE, Version.ZERO));
        }
        for (String token : tokens) {
            comparators.addAll(desugar(range, token));
        }
        return List.copyOf(comparators);
    }

    private static List<Comparator> desugar(String range, String token) {
        Matcher op = OPERATOR.matcher(token);
        if (!op.matches()) {
            throw invalid(range, "cannot read " + token);
        }
        String operator = op.group(1) == null ? "" : op.group(1);
        Matcher m = PARTIAL.matcher(op.group(2));
        if (!m.matches()) {
            throw invalid(range, "not a version: " + op.group(2));
        }
        Long major = number(range, m.group(1));
        Long minor = major == null ? null : number(range, m.group(2));
        Long patch = minor == null ? null : number(range, m.group(3));
        List<String> pre = m.group(4) == null ? List.of() : List.of(m.group(4).split("\\."));
        if (!pre.isEmpty() && patch == null) {
            throw invalid(range, "a pre-release needs a full version: " + op.group(2));
        }
        Version low = new Version(major == null ? 0 : major, minor == null ? 0 : minor, patch == null ? 0 : patch, pre);
        return switch (operator) {
            case "", "=" -> {
                if (patch != null) {
                    yield List.of(new Comparator(Op.EQ, low));
                }
                yield withUpper(low, major == null ? null : minor == null ? low.nextMajor() : low.nextMinor());
            }
            case "~" -> withUpper(low, major == null ? null : minor == null ? low.nextMajor() : low.nextMinor());
            case "^" -> {
                Version upper;
                if (major == null) {
                    upper = null;
                } else if (major > 0 || minor == null) {
                    upper = low.nextMajor();
                } else if (minor > 0 || patch == null) {
                    upper = low.nextMinor();
                } else {
                    upper = low.nextPatch();
                }
                yield withUpper(low, upper);
            }
            case ">" -> {
                if (major == null) {
                    yield List.of(new Comparator(Op.LT, Version.ZERO));
                }
                if (patch != null) {
                    yield List.of(new Comparator(Op.GT, low));
                }
                yield List.of(new Comparator(Op.GE, minor == null ? low.nextMajor().release() : low.nextMinor().release()));
            }
            case ">=" -> List.of(new Comparator(Op.GE, low));
            case "<" -> List.of(new Comparator(Op.LT, patch != null ? low : low.lowestPre()));
            case "<=" -> {
                if (major == null) {
                    yield List.of(new Comparator(Op.GE, Version.ZERO));
                }
                if (patch != null) {
                    yield List.of(new Comparator(Op.LE, low));
                }
                yield List.of(new Comparator(Op.LT, minor == null ? low.nextMajor() : low.nextMinor()));
            }
            default -> throw invalid(range, "unknown operator " + operator);
        };
    }

    private static List<Comparator> withUpper(Version low, Version upper) {
        if (upper == null) {
            return List.of(new Comparator(Op.GE, Version.ZERO));
        }
        return List.of(new Comparator(Op.GE, low), new Comparator(Op.LT, upper));
    }

    private static Long number(String range, String part) {
        if (part == null || part.equals("x") || part.equals("X") || part.equals("*")) {
            return null;
        }
        try {
            return Long.parseLong(part);
        } catch (NumberFormatException e) {
            throw invalid(range, "number too large: " + part);
        }
    }

    private static IllegalArgumentException invalid(String range, String why) {
        return new IllegalArgumentException("invalid semver range \"" + range + "\": " + why);
    }

    @Override
    public String toString() {
        return text;
    }

    private enum Op {
        EQ, GT, GE, LT, LE
    }

    private record Comparator(Op op, Version version) {
        boolean test(Version v) {
            int c = v.compareTo(version);
            return switch (op) {
                case EQ -> c == 0;
                case GT -> c > 0;
                case GE -> c >= 0;
                case LT -> c < 0;
                case LE -> c <= 0;
            };
        }
    }

    /** A version: numbers and pre-release identifiers (build metadata is dropped, as precedence ignores it). */
    record Version(long major, long minor, long patch, List<String> pre) implements Comparable<Version> {
        static final Version ZERO = new Version(0, 0, 0, List.of());

        Version {
            pre = List.copyOf(pre);
        }

        static Optional<Version> parseTag(String tag) {
            if (tag == null) {
                return Optional.empty();
            }
            Matcher m = TAG.matcher(tag);
            if (!m.matches()) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Version(Long.parseLong(m.group(1)),
                        m.group(2) == null ? 0 : Long.parseLong(m.group(2)),
                        m.group(3) == null ? 0 : Long.parseLong(m.group(3)),
                        m.group(4) == null ? List.of() : List.of(m.group(4).split("\\."))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        Version nextMajor() {
            return new Version(major + 1, 0, 0, List.of("0"));
        }

        Version nextMinor() {
            return new Version(major, minor + 1, 0, List.of("0"));
        }

        Version nextPatch() {
            return new Version(major, minor, patch + 1, List.of("0"));
        }

        Version release() {
            return new Version(major, minor, patch, List.of());
        }

        Version lowestPre() {
            return new Version(major, minor, patch, List.of("0"));
        }

        boolean sameRelease(Version other) {
            return major == other.major && minor == other.minor && patch == other.patch;
        }

        @Override
        public int compareTo(Version o) {
            int c = Long.compare(major, o.major);
            if (c == 0) {
                c = Long.compare(minor, o.minor);
            }
            if (c == 0) {
                c = Long.compare(patch, o.patch);
            }
            if (c != 0) {
                return c;
            }
            if (pre.isEmpty() || o.pre.isEmpty()) {
                return Boolean.compare(pre.isEmpty(), o.pre.isEmpty());
            }
            for (int i = 0; i < Math.min(pre.size(), o.pre.size()); i++) {
                c = compareIdentifier(pre.get(i), o.pre.get(i));
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(pre.size(), o.pre.size());
        }

        private static int compareIdentifier(String a, String b) {
            boolean numA = a.chars().allMatch(Character::isDigit);
            boolean numB = b.chars().allMatch(Character::isDigit);
            if (numA && numB) {
                int c = Integer.compare(a.replaceFirst("^0+(?=.)", "").length(), b.replaceFirst("^0+(?=.)", "").length());
                return c != 0 ? c : a.replaceFirst("^0+(?=.)", "").compareTo(b.replaceFirst("^0+(?=.)", ""));
            }
            if (numA != numB) {
                return numA ? -1 : 1;
            }
            return a.compareTo(b);
        }
    }
}
