package io.mirrorball.oci;

import java.util.Optional;
import java.util.regex.Pattern;

/** What follows {@code /manifests/}: a tag or a digest. Exactly one of the two is present. */
public record Reference(String tag, Digest digest) {
    private static final Pattern TAG = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

    public Reference {
        if ((tag == null) == (digest == null)) {
            throw new IllegalArgumentException("a reference is a tag or a digest");
        }
        if (tag != null && !isTag(tag)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "invalid tag " + tag);
        }
    }

    /** A string with a colon is a digest (DIGEST_INVALID when malformed); otherwise a tag. */
    public static Reference parse(String text) {
        if (text != null && text.indexOf(':') >= 0) {
            return new Reference(null, Digest.parse(text));
        }
        if (!isTag(text)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "invalid tag " + text);
        }
        return new Reference(text, null);
    }

    public static Reference ofTag(String tag) {
        return new Reference(tag, null);
    }

    public static Reference ofDigest(Digest digest) {
        return new Reference(null, digest);
    }

    public static boolean isTag(String text) {
        return text != null && TAG.matcher(text).matches();
    }

    public boolean isDigest() {
        return digest != null;
    }

    public Optional<String> asTag() {
        return Optional.ofNullable(tag);
    }

    public Optional<Digest> asDigest() {
        return Optional.ofNullable(digest);
    }

    @Override
    public String toString() {
        return digest != null ? digest.toString() : tag;
    }
}
