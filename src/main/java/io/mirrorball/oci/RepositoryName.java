package io.mirrorball.oci;

import java.util.regex.Pattern;

/**
 * A repository name in the OCI grammar: path components of lower-case alphanumerics joined by
 * separators, at most 255 characters. No component can be {@code .} or {@code ..}, so a name
 * can never leave the MFS root.
 */
public record RepositoryName(String value) implements Comparable<RepositoryName> {
    private static final Pattern GRAMMAR = Pattern.compile(
            "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
    public static final int MAX_LENGTH = 255;

    public RepositoryName {
        if (!isValid(value)) {
            throw new OciException(OciErrorCode.NAME_INVALID, "invalid repository name " + abbreviate(value));
        }
    }

    public static RepositoryName parse(String value) {
        return new RepositoryName(value);
    }

    public static boolean isValid(String value) {
        return value != null && !value.isEmpty() && value.length() <= MAX_LENGTH && GRAMMAR.matcher(value).matches();
    }

    /** The number of path components: {@code library/alpine} has two. */
    public int components() {
        return value.split("/", -1).length;
    }

    private static String abbreviate(String text) {
        if (text == null) {
            return "(none)";
        }
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }

    @Override
    public int compareTo(RepositoryName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
