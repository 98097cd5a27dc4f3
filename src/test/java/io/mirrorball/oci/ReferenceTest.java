package io.mirrorball.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

final class ReferenceTest {
    private static final String HEX = "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

    static Stream<String> validTags() {
        return Stream.of("latest", "v1.0.0", "1", "_", "_x", "A", "UPPER_lower.9-", "v1-rc_2", "a..b", "a--",
                "x".repeat(128), "_" + "-".repeat(127));
    }

    @ParameterizedTest
    @MethodSource("validTags")
    void parse_validTag_isTag(String text) {
        Reference reference = Reference.parse(text);

        assertFalse(reference.isDigest());
        assertEquals(Optional.of(text), reference.asTag());
        assertEquals(Optional.empty(), reference.asDigest());
        assertEquals(text, reference.toString());
        assertTrue(Reference.isTag(text));
        assertEquals(reference, Reference.ofTag(text));
    }

    /** Not a tag and without a colon, so not a digest either. */
    static Stream<String> invalidTags() {
        return Stream.of("x".repeat(129), "a".repeat(1000), ".hidden", "-x", ".", "..", "a/b", "../a", "a b", " a",
                "a+b", "a@b", "a%3Ab", "a\n", "a\u00e9", "\u00e9");
    }

    @ParameterizedTest
    @MethodSource("invalidTags")
    @NullAndEmptySource
    void parse_invalidTag_manifestInvalid(String text) {
        OciException e = assertThrows(OciException.class, () -> Reference.parse(text));

        assertEquals(OciErrorCode.MANIFEST_INVALID, e.code());
        assertFalse(Reference.isTag(text));
    }

    /**
     * The same bad tag must get the same error whichever factory sees it. TAG_INVALID is not among the
     * error codes of distribution-spec v1.1 (code-11 was removed), so parse's MANIFEST_INVALID is the one.
     */
    @ParameterizedTest
    @MethodSource("invalidTags")
    void ofTag_invalidTag_sameCodeAsParse(String text) {
        OciException fromParse = assertThrows(OciException.class, () -> Reference.parse(text));
        OciException fromOfTag = assertThrows(OciException.class, () -> Reference.ofTag(text));

        assertEquals(fromParse.code(), fromOfTag.code());
    }

    @Test
    void parse_digest_isDigest() {
        Reference reference = Reference.parse("sha256:" + HEX);

        assertTrue(reference.isDigest());
        assertEquals(Optional.of(Digest.sha256(HEX)), reference.asDigest());
        assertEquals(Optional.empty(), reference.asTag());
        assertEquals("sha256:" + HEX, reference.toString());
        assertEquals(reference, Reference.ofDigest(Digest.sha256(HEX)));
    }

    /** Anything with a colon is read as a digest, so a malformed one is DIGEST_INVALID. */
    static Stream<String> invalidDigests() {
        return Stream.of("sha256:" + HEX.substring(1), "sha256:" + HEX.toUpperCase(), "md5:d41d8cd98f00b204e9800998ecf8427e",
                "latest:v1", ":", "a:", ":" + HEX, "sha256:" + HEX + ":x");
    }

    @ParameterizedTest
    @MethodSource("invalidDigests")
    void parse_invalidDigest_digestInvalid(String text) {
        OciException e = assertThrows(OciException.class, () -> Reference.parse(text));

        assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
    }

    @Test
    void constructor_bothOrNeither_rejected() {
        Digest digest = Digest.sha256(HEX);

        assertThrows(IllegalArgumentException.class, () -> new Reference("latest", digest));
        assertThrows(IllegalArgumentException.class, () -> new Reference(null, null));
    }
}
