package io.mirrorball.ipfs;

import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * CIDs in text (every multibase, ipdr names) and in binary, and the multibase codecs under them.
 * Input: the text, also taken as the binary form (seeds in CidFuzzTestInputs/parse_anyInput).
 * A parsed CID prints as a CID that parses back to it.
 */
final class CidFuzzTest {

    @FuzzTest
    void parse_anyInput(byte[] input) {
        String text = text(input);
        try {
            roundTrips(Cid.parse(text));
            assertTrue(Cid.isCid(text));
        } catch (IllegalArgumentException e) {
            assertTrue(!Cid.isCid(text));
        }
        try {
            roundTrips(Cid.fromBytes(input));
        } catch (IllegalArgumentException e) {
            // not a binary CID: the documented failure
        }

        assertArrayEquals(input, Multibase.decodeBase32(Multibase.encodeBase32(input)));
        assertArrayEquals(input, Multibase.decodeBase58(Multibase.encodeBase58(input)));
        try {
            assertEquals(text, Multibase.encodeBase32(Multibase.decodeBase32(text)));
        } catch (IllegalArgumentException e) {
            // not base32
        }
        try {
            assertEquals(text, Multibase.encodeBase58(Multibase.decodeBase58(text)));
        } catch (IllegalArgumentException e) {
            // not base58
        }
        try {
            Multibase.decodeBase16(text);
        } catch (IllegalArgumentException e) {
            // not base16
        }
    }

    private static void roundTrips(Cid cid) {
        assertEquals(cid, Cid.fromBytes(cid.bytes()));
        if (cid.toV1().toString().length() > 200) {
            return; // Cid.parse takes at most 200 characters, as no sha2-256 CID is near that long
        }
        assertEquals(cid, Cid.parse(cid.toString()));
        assertEquals(cid.toV1(), Cid.parse(cid.toV1().toString()));
        assertTrue(cid.version() == 0 || cid.version() == 1);
        if (cid.isSha256()) {
            assertEquals(32, cid.sha256Digest().length);
        }
        if (cid.codec() == Cid.DAG_PB && cid.isSha256()) {
            assertEquals(cid.toV1(), Cid.parse(cid.toIpdr()).toV1());
        }
    }
}
