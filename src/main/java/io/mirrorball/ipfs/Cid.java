package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * A content identifier, version 0 or 1. Parsed from base32 ({@code b...}, {@code B...}), base58btc
 * ({@code z...} and CIDv0 {@code Qm...}), base16 ({@code f...}), and ipdr's {@code ciq...} names
 * (base32 of a CIDv0 multihash, lower case, no multibase prefix). Printed as Kubo does: CIDv1 in
 * base32, CIDv0 in base58btc. Immutable; equal when version, codec and multihash are equal.
 */
public final class Cid implements Comparable<Cid> {
    public static final long RAW = 0x55;
    public static final long DAG_PB = 0x70;
    public static final long DAG_CBOR = 0x71;
    public static final int SHA2_256 = 0x12;

    private final int version;
    private final long codec;
    private final byte[] multihash;

    private Cid(int version, long codec, byte[] multihash) {
        this.version = version;
        this.codec = codec;
        this.multihash = multihash;
    }

    /** A CIDv1 from a codec and a multihash. */
    public static Cid v1(long codec, byte[] multihash) {
        checkMultihash(multihash);
        return new Cid(1, codec, multihash.clone());
    }

    /** A CIDv0 (dag-pb, sha2-256) from a multihash. */
    public static Cid v0(byte[] multihash) {
        checkMultihash(multihash);
        if (multihash.length != 34 || (multihash[0] & 0xff) != SHA2_256 || multihash[1] != 32) {
            throw new IllegalArgumentException("a CIDv0 is a sha2-256 multihash");
        }
        return new Cid(0, DAG_PB, multihash.clone());
    }

    /** A CIDv1 whose multihash is sha2-256 of a block with this 32-byte digest. */
    public static Cid sha256(long codec, byte[] digest) {
        if (digest.length != 32) {
            throw new IllegalArgumentException("sha2-256 digest must be 32 bytes");
        }
        byte[] mh = new byte[34];
        mh[0] = SHA2_256;
        mh[1] = 32;
        System.arraycopy(digest, 0, mh, 2, 32);
        return new Cid(1, codec, mh);
    }

    /** True when the text parses as a CID (or an ipdr name). */
    public static boolean isCid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Parses a CID string.
     *
     * @throws IllegalArgumentException when it is not one
     */
    public static Cid parse(String text) {
        if (text == null || text.length() < 2 || text.length() > 200) {
            throw new IllegalArgumentException("not a CID: " + text);
        }
        if (text.length() == 46 && text.startsWith("Qm")) {
            return fromV0Multihash(Multibase.decodeBase58(text));
        }
        if (text.startsWith("ciq")) {
            return fromV0Multihash(Multibase.decodeBase32(text));
        }
        char prefix = text.charAt(0);
        String body = text.substring(1);
        byte[] bytes = switch (prefix) {
            case 'b' -> Multibase.decodeBase32(body);
            case 'B' -> Multibase.decodeBase32(body.toLowerCase(Locale.ROOT));
            case 'z' -> Multibase.decodeBase58(body);
            case 'f', 'F' -> Multibase.decodeBase16(body.toLowerCase(Locale.ROOT));
            default -> throw new IllegalArgumentException("unknown multibase prefix in " + text);
        };
        return fromBytes(bytes);
    }

    /** Parses the binary form of a CID (as found in dag-pb links and CAR files). */
    public static Cid fromBytes(byte[] bytes) {
        if (bytes.length == 34 && bytes[0] == SHA2_256 && bytes[1] == 32) {
            return fromV0Multihash(bytes);
        }
        int[] pos = {0};
        long version = Varint.read(bytes, pos);
        if (version != 1) {
            throw new IllegalArgumentException("unsupported CID version " + version);
        }
        long codec = Varint.read(bytes, pos);
        byte[] mh = Arrays.copyOfRange(bytes, pos[0], bytes.length);
        checkMultihash(mh);
        return new Cid(1, codec, mh);
    }

    private static Cid fromV0Multihash(byte[] mh) {
        return v0(mh);
    }

    private static void checkMultihash(byte[] mh) {
        int[] pos = {0};
        try {
            Varint.read(mh, pos);
            long length = Varint.read(mh, pos);
            if (length != mh.length - pos[0]) {
                throw new IllegalArgumentException("multihash length mismatch");
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("truncated multihash", e);
        }
    }

    public int version() {
        return version;
    }

    public long codec() {
        return codec;
    }

    /** A copy of the multihash bytes. */
    public byte[] multihash() {
        return multihash.clone();
    }

    /** True when the multihash is sha2-256. */
    public boolean isSha256() {
        return (multihash[0] & 0xff) == SHA2_256 && multihash[1] == 32 && multihash.length == 34;
    }

    /** The 32-byte sha2-256 digest inside the multihash. */
    public byte[] sha256Digest() {
        if (!isSha256()) {
            throw new IllegalStateException("not a sha2-256 CID: " + this);
        }
        return Arrays.copyOfRange(multihash, 2, 34);
    }

    /** The binary CID. */
    public byte[] bytes() {
        if (version == 0) {
            return multihash.clone();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(multihash.length + 4);
        Varint.write(out, 1);
        Varint.write(out, codec);
        out.writeBytes(multihash);
        return out.toByteArray();
    }

    public Cid toV1() {
        return version == 1 ? this : new Cid(1, codec, multihash);
    }

    /** ipdr's name for this CID: base32 of the CIDv0 multihash, lower case. Only for dag-pb sha2-256. */
    public String toIpdr() {
        if (codec != DAG_PB || !isSha256()) {
            throw new IllegalStateException("ipdr names are dag-pb sha2-256 CIDs only: " + this);
        }
        return Multibase.encodeBase32(multihash);
    }

    @Override
    public String toString() {
        if (version == 0) {
            return Multibase.encodeBase58(multihash);
        }
        return "b" + Multibase.encodeBase32(bytes());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cid other && version == other.version && codec == other.codec
                && Arrays.equals(multihash, other.multihash);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(multihash) * 31 + (int) codec + version;
    }

    @Override
    public int compareTo(Cid other) {
        return toString().compareTo(other.toString());
    }
}
