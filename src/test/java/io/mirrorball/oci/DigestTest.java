package io.mirrorball.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

final class DigestTest {
    private static final String HEX64 = "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    private static final String HEX128 = HEX64 + HEX64;
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    static Stream<Arguments> validDigests() {
        return Stream.of(
                Arguments.of("sha256:" + HEX64, "sha256", HEX64),
                Arguments.of("sha256:" + EMPTY_SHA256, "sha256", EMPTY_SHA256),
                Arguments.of("sha256:" + "0".repeat(64), "sha256", "0".repeat(64)),
                Arguments.of("sha512:" + HEX128, "sha512", HEX128));
    }

    @ParameterizedTest
    @MethodSource("validDigests")
    void parse_valid_splitsAlgorithmAndHex(String text, String algorithm, String hex) {
        Digest digest = Digest.parse(text);

        assertEquals(algorithm, digest.algorithm());
        assertEquals(hex, digest.hex());
        assertEquals(text, digest.toString());
        assertTrue(Digest.isDigest(text));
    }

    static Stream<String> invalidDigests() {
        return Stream.of(
                "sha256",                                  // no colon
                "sha256:",                                 // no hex
                ":" + HEX64,                               // no algorithm
                "sha256:" + HEX64.substring(1),            // 63 hex digits
                "sha256:" + HEX64 + "a",                   // 65 hex digits
                "sha256:" + HEX128,                        // sha512 length under sha256
                "sha512:" + HEX64,                         // sha256 length under sha512
                "sha256:" + HEX64.toUpperCase(),           // upper-case hex
                "sha256:" + HEX64.substring(0, 63) + "A",  // one upper-case digit
                "SHA256:" + HEX64,                         // upper-case algorithm
                "md5:d41d8cd98f00b204e9800998ecf8427e",    // unknown algorithm
                "sha384:" + "a".repeat(96),                // unknown algorithm
                "blake3:" + HEX64,                         // unknown algorithm, right length
                "sha256:" + "g".repeat(64),                // not hex
                "sha256:" + HEX64 + " ",                   // trailing space
                " sha256:" + HEX64,                        // leading space
                "sha256::" + HEX64,                        // double colon
                "sha256:" + HEX64 + "\n",                  // trailing newline
                "sha256+b64:" + HEX64,                     // encoded algorithm not supported
                "sha256:" + HEX64.substring(0, 62) + "/.", // path characters
                "sha256:../../../../etc/passwd");          // traversal attempt
    }

    @ParameterizedTest
    @MethodSource("invalidDigests")
    @NullAndEmptySource
    void parse_invalid_digestInvalid(String text) {
        OciException e = assertThrows(OciException.class, () -> Digest.parse(text));

        assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
        assertFalse(Digest.isDigest(text));
    }

    @ParameterizedTest
    @MethodSource("invalidDigests")
    void constructor_invalidParts_digestInvalid(String text) {
        int colon = text.indexOf(':');
        String algorithm = colon < 0 ? text : text.substring(0, colon);
        String hex = colon < 0 ? "" : text.substring(colon + 1);

        OciException e = assertThrows(OciException.class, () -> new Digest(algorithm, hex));

        assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
    }

    @Test
    void parse_veryLongInput_messageIsAbbreviated() {
        String text = "sha256:" + "a".repeat(100_000);

        OciException e = assertThrows(OciException.class, () -> Digest.parse(text));

        assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
        assertTrue(e.getMessage().length() < 300, "message length " + e.getMessage().length());
    }

    static Stream<Arguments> knownContent() {
        return Stream.of(
                Arguments.of("", EMPTY_SHA256),
                Arguments.of("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                Arguments.of("{}", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
    }

    @ParameterizedTest
    @MethodSource("knownContent")
    void ofBytes_knownContent_knownSha256(String content, String expectedHex) {
        Digest digest = Digest.ofBytes(content.getBytes(StandardCharsets.UTF_8));

        assertEquals(Digest.sha256(expectedHex), digest);
        assertEquals("sha256:" + expectedHex, digest.toString());
    }

    @Test
    void sha256_rawBytes_roundTripsThroughBytes() {
        byte[] raw = HexFormat.of().parseHex(HEX64);

        Digest digest = Digest.sha256(raw);

        assertEquals(HEX64, digest.hex());
        assertArrayEquals(raw, digest.bytes());
        assertEquals(32, digest.bytes().length);
    }

    @Test
    void newMessageDigest_perAlgorithm_matchesAlgorithm() {
        assertEquals("SHA-256", Digest.parse("sha256:" + HEX64).newMessageDigest().getAlgorithm());
        assertEquals("SHA-512", Digest.parse("sha512:" + HEX128).newMessageDigest().getAlgorithm());
        assertEquals("SHA-256", Digest.newSha256().getAlgorithm());
    }

    @Test
    void equalsAndCompare_sameText_equal() {
        Digest a = Digest.parse("sha256:" + HEX64);
        Digest b = Digest.sha256(HEX64);
        Digest c = Digest.sha256(EMPTY_SHA256);

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(0, a.compareTo(b));
        assertTrue(a.compareTo(c) < 0, "6c.. sorts before e3..");
    }

    @Test
    void of_perAlgorithm_digestsWithThatAlgorithm() {
        byte[] abc = "abc".getBytes(StandardCharsets.UTF_8);

        assertEquals(Digest.ofBytes(abc), Digest.of("sha256", abc));
        assertEquals("sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", Digest.of("sha512", abc).toString());
        assertEquals(OciErrorCode.DIGEST_INVALID, assertThrows(OciException.class, () -> Digest.of("md5", abc)).code());
    }
}
