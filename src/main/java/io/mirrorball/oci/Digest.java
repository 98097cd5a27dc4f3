package io.mirrorball.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest, {@code algorithm:hex}. Only sha256 and sha512 are accepted. */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

    public Digest {
        if (!valid(algorithm, hex)) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "invalid digest " + algorithm + ":" + hex);
        }
    }

    /** Parses {@code sha256:<64 lower-case hex>}; anything else is DIGEST_INVALID. */
    public static Digest parse(String text) {
        if (text == null) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "missing digest");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "invalid digest " + abbreviate(text));
        }
        String algorithm = text.substring(0, colon);
        String hex = text.substring(colon + 1);
        if (!valid(algorithm, hex)) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "invalid digest " + abbreviate(text));
        }
        return new Digest(algorithm, hex);
    }

    public static boolean isDigest(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        return colon > 0 && valid(text.substring(0, colon), text.substring(colon + 1));
    }

    /** The algorithms accepted, the registry's default first. */
    public static final java.util.List<String> ALGORITHMS = java.util.List.of("sha256", "sha512");

    /** Digest of a small byte array (a manifest) with the given algorithm; never use it for a blob. */
    public static Digest of(String algorithm, byte[] content) {
        if (!ALGORITHMS.contains(algorithm)) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "unsupported digest algorithm " + algorithm);
        }
        return new Digest(algorithm, HexFormat.of().formatHex(newMessageDigest(algorithm).digest(content)));
    }

    public static Digest sha256(String hex) {
        return new Digest("sha256", hex);
    }

    public static Digest sha256(byte[] raw) {
        return new Digest("sha256", HexFormat.of().formatHex(raw));
    }

    /** Digest of a small byte array (a manifest); never use it for a blob. */
    public static Digest ofBytes(byte[] content) {
        return sha256(newSha256().digest(content));
    }

    public static MessageDigest newSha256() {
        return newMessageDigest("sha256");
    }

    public MessageDigest newMessageDigest() {
        return newMessageDigest(algorithm);
    }

    private static MessageDigest newMessageDigest(String algorithm) {
        try {
            return MessageDigest.getInstance("sha512".equals(algorithm) ? "SHA-512" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JVM without " + algorithm, e);
        }
    }

    /** The raw digest bytes. */
    public byte[] bytes() {
        return HexFormat.of().parseHex(hex);
    }

    private static boolean valid(String algorithm, String hex) {
        if (algorithm == null || hex == null) {
            return false;
        }
        return switch (algorithm) {
            case "sha256" -> SHA256.matcher(hex).matches();
            case "sha512" -> SHA512.matcher(hex).matches();
            default -> false;
        };
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }

    @Override
    public int compareTo(Digest other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
