package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Expected values computed independently (Python hashlib/base64, and the js-ipfs node). */
final class CidTest {
    /** sha2-256("hello") */
    private static final String HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // input, version, codec, canonical string, v1 string
        "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5, 0, 112, QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, 1, 112, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "BAFYBEIBM6JG3UX5QUMHCN2B3FLC3TYU6DMLB4XA7U5BF44YEGNRJHC4YEQ, 1, 112, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, 1, 85, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "zb2rhZfjRh2FHHB2RkHVEvL2vJnCTcu7kwRqgVsf9gpkLgteo, 1, 85, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "f015512202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, 1, 85, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "ciqcz4snxjp3biyoe3udwkwfxhrj4gywdzob7j2clzzqim3csofzqja, 0, 112, QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5, bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn, 0, 112, QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn, bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku, 1, 85, bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku, bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    })
    void parse_validCid_versionCodecAndStrings(String input, int version, long codec, String canonical, String v1) {
        Cid cid = Cid.parse(input);

        assertEquals(version, cid.version());
        assertEquals(codec, cid.codec());
        assertEquals(canonical, cid.toString());
        assertEquals(v1, cid.toV1().toString());
        assertEquals(1, cid.toV1().version());
        assertEquals(cid, Cid.parse(cid.toString()));
        assertEquals(cid, Cid.fromBytes(cid.bytes()));
        assertTrue(Cid.isCid(input));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, 015512202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, 017012202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5, 12202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    })
    void bytes_binaryForm(String input, String hex) {
        Cid cid = Cid.parse(input);

        assertEquals(hex, HexFormat.of().formatHex(cid.bytes()));
        assertEquals(HELLO_SHA256, HexFormat.of().formatHex(cid.sha256Digest()));
        assertTrue(cid.isSha256());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5, ciqcz4snxjp3biyoe3udwkwfxhrj4gywdzob7j2clzzqim3csofzqja",
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq, ciqcz4snxjp3biyoe3udwkwfxhrj4gywdzob7j2clzzqim3csofzqja",
    })
    void toIpdr_dagPbSha256_base32OfMultihash(String input, String ipdr) {
        assertEquals(ipdr, Cid.parse(input).toIpdr());
        assertEquals(Cid.parse(input).toV1(), Cid.parse(ipdr).toV1());
    }

    @Test
    void toIpdr_rawCid_illegalState() {
        assertThrows(IllegalStateException.class,
                () -> Cid.parse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq").toIpdr());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {
        "",
        "b",
        "Qm",
        "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT0",   // 0 is not base58
        "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT",    // too short
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4ye",  // truncated multihash
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeqa", // trailing garbage
        "bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4ye1",  // 1 is not base32
        "BAFYBEIBM6JG3UX5QUMHCN2B3FLC3TYU6DMLB4XA7U5BF44YEGNRJHC4YE!",
        "Bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq%",
        "zb2rhZfjRh2FHHB2RkHVEvL2vJnCTcu7kwRqgVsf9gpkLgteI", // I is not base58
        "f0155",
        "f01551220zz",
        "xyz",
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "ciq",
        "ciqcz4snxjp3biyoe3udwkwfxhrj4gywdzob7j2clzzqim3csofzqj",
        "bahaaaaa", // CID version 0 in a v1 prefix
        "library/alpine",
    })
    void parse_invalid_illegalArgument(String text) {
        assertThrows(IllegalArgumentException.class, () -> Cid.parse(text));
        assertFalse(Cid.isCid(text));
    }

    @Test
    void parse_null_illegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> Cid.parse(null));
    }

    @Test
    void sha256_factory_matchesTheDigest() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest("hello".getBytes(StandardCharsets.UTF_8));

        Cid raw = Cid.sha256(Cid.RAW, digest);
        Cid dagPb = Cid.sha256(Cid.DAG_PB, digest);

        assertEquals("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq", raw.toString());
        assertNotEquals(raw, dagPb);
        assertArrayEquals(digest, dagPb.sha256Digest());
        assertEquals(Cid.parse("QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5").toV1(), dagPb);
        assertNotEquals(Cid.parse("QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5"), dagPb, "v0 and v1 differ");
        assertThrows(IllegalArgumentException.class, () -> Cid.sha256(Cid.RAW, new byte[31]));
    }

    @Test
    void v0_nonSha256Multihash_illegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> Cid.v0(new byte[] {0x13, 0x02, 1, 2}));
    }

    @Test
    void compareTo_orderByString() {
        Cid a = Cid.parse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq");
        Cid b = Cid.parse("bafybeibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq");

        assertTrue(a.compareTo(b) < 0);
        assertEquals(0, a.compareTo(Cid.parse(a.toString())));
    }
}
