package io.mirrorball.ipfs;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A CAR v1 stream checked as it passes: the header, then every section, is read and verified before
 * its bytes are handed on, so a consumer (a node's {@code dagImport}) never sees a bad byte. Refused
 * with an {@link IpfsException} that names the section and byte offset: a header that is not CAR v1
 * or names no roots, a length varint that is not minimal or over {@link #MAX_SECTION}, a CID that
 * is not sha2-256, a block that does not match its CID, and a stream that ends inside the header
 * or a section. A stream cut exactly at a section boundary is a valid CAR: only a walk of the DAG
 * ({@link CompletenessWalk}) finds the missing blocks.
 *
 * <p>Use it either as a stream ({@code read}) or section by section ({@link #nextSection}), not
 * both. At most one section (one block) is held in memory.
 */
public final class VerifyingCarReader extends FilterInputStream {
    /** The largest header or section: a 1 MiB block plus room for its CID. */
    public static final int MAX_SECTION = 1024 * 1024 + 128;

    /** One verified section: a CID and its block. */
    public record Section(Cid cid, byte[] block) {
    }

    private final MessageDigest sha256 = sha256();
    private List<Cid> roots;
    private boolean ended;
    /** Bytes read from the underlying stream. */
    private long offset;
    /** Sections read so far (the header is not one). */
    private long sections;
    /** Verified bytes not yet handed on by {@link #read}: a length prefix, then a body. */
    private byte[] prefix = new byte[0];
    private byte[] body = new byte[0];
    private int position;
    private boolean streamed;
    private boolean sectioned;

    private VerifyingCarReader(InputStream in) {
        super(new BufferedInputStream(in, 64 * 1024));
    }

    /** A reader of {@code car}; closing the reader closes {@code car}. */
    public static VerifyingCarReader of(InputStream car) {
        return new VerifyingCarReader(java.util.Objects.requireNonNull(car, "car"));
    }

    /** The CAR's roots (at least one), reading and checking the header first if that has not happened yet. */
    public List<Cid> roots() throws IOException {
        if (roots == null) {
            readHeader();
        }
        return roots;
    }

    /** The number of sections read so far. */
    public long sectionsRead() {
        return sections;
    }

    /** The next verified section, or empty at the end of the CAR. */
    public Optional<Section> nextSection() throws IOException {
        if (streamed) {
            throw new IllegalStateException("this CAR is being read as a stream");
        }
        sectioned = true;
        roots();
        if (!readSection()) {
            return Optional.empty();
        }
        int cidLength = cidLength(body, sections, offset - body.length);
        Cid cid = Cid.fromBytes(Arrays.copyOf(body, cidLength));
        return Optional.of(new Section(cid, Arrays.copyOfRange(body, cidLength, body.length)));
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (sectioned) {
            throw new IllegalStateException("this CAR is being read section by section");
        }
        streamed = true;
        if (len == 0) {
            return 0;
        }
        if (roots == null) {
            readHeader();
        } else if (position >= prefix.length + body.length && !readSection()) {
            return -1;
        }
        int n = 0;
        if (position < prefix.length) {
            n = Math.min(len, prefix.length - position);
            System.arraycopy(prefix, position, b, off, n);
        } else {
            n = Math.min(len, prefix.length + body.length - position);
            System.arraycopy(body, position - prefix.length, b, off, n);
        }
        position += n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // FilterInputStream.skip would pass bytes by unchecked: skip by reading through the checks
        byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public int available() {
        return prefix.length + body.length - position;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    private void readHeader() throws IOException {
        long length = readLength("the header");
        if (length < 0) {
            throw refused(IpfsException.Kind.FAILED, "the CAR is empty (no header)");
        }
        if (length == 0) {
            throw refused(IpfsException.Kind.FAILED, "the CAR header at byte offset 0 has length 0");
        }
        byte[] header = readBody((int) length, "the header");
        List<Cid> parsed;
        try {
            parsed = Car.parseHeader(header);
        } catch (IpfsException e) {
            String why = e.getMessage().replaceFirst("^dag/import: invalid CAR header: ", "");
            throw refused(IpfsException.Kind.FAILED, "the CAR header is not a CAR v1 header: " + why, e);
        } catch (IllegalArgumentException e) { // a root that is not a valid CID
            throw refused(IpfsException.Kind.FAILED, "the CAR header names an invalid root CID: " + e.getMessage(), e);
        }
        if (parsed.isEmpty()) {
            throw refused(IpfsException.Kind.FAILED, "the CAR header names no roots");
        }
        for (Cid root : parsed) {
            if (!root.isSha256()) {
                throw refused(IpfsException.Kind.FAILED, "the CAR header names root " + root
                        + ", which is not a sha2-256 CID (only sha2-256 is accepted)");
            }
        }
        roots = List.copyOf(parsed);
        prefix = varint(length);
        body = header;
        position = 0;
    }

    /** Reads and verifies the next section into {@link #prefix} and {@link #body}; false at the end. */
    private boolean readSection() throws IOException {
        if (ended) {
            return false;
        }
        long section = sections + 1;
        long start = offset;
        String where = "section " + section + " (byte offset " + start + ")";
        long length = readLength(where);
        if (length < 0) {
            ended = true;
            prefix = new byte[0];
            body = new byte[0];
            position = 0;
            return false;
        }
        if (length == 0) {
            throw refused(IpfsException.Kind.FAILED, "CAR " + where + " has length 0");
        }
        byte[] bytes = readBody((int) length, where);
        int cidLength = cidLength(bytes, section, start);
        Cid cid;
        try {
            cid = Cid.fromBytes(Arrays.copyOf(bytes, cidLength));
        } catch (IllegalArgumentException e) {
            throw refused(IpfsException.Kind.FAILED, "CAR " + where + " starts with an invalid CID: " + e.getMessage(), e);
        }
        if (!cid.isSha256()) {
            throw refused(IpfsException.Kind.FAILED, "CAR " + where + " holds block " + cid
                    + ", whose CID is not sha2-256 (only sha2-256 is accepted)");
        }
        sha256.update(bytes, cidLength, bytes.length - cidLength);
        if (!MessageDigest.isEqual(sha256.digest(), cid.sha256Digest())) {
            throw refused(IpfsException.Kind.CORRUPT, "CAR " + where + ": block " + cid + " does not match its CID");
        }
        sections = section;
        prefix = varint(length);
        body = bytes;
        position = 0;
        return true;
    }

    /** The length of the binary CID at the start of a section body. */
    private static int cidLength(byte[] body, long section, long start) throws IpfsException {
        String where = "CAR section " + section + " (byte offset " + start + ")";
        if (body.length >= 34 && body[0] == Cid.SHA2_256 && body[1] == 32) {
            return 34; // CIDv0: a bare sha2-256 multihash
        }
        try {
            int[] pos = {0};
            Varint.read(body, pos); // version
            Varint.read(body, pos); // codec
            Varint.read(body, pos); // hash function
            long digestLength = Varint.read(body, pos);
            if (digestLength < 0 || digestLength > body.length - pos[0]) {
                throw new IpfsException(IpfsException.Kind.FAILED, where + " has a CID longer than the section");
            }
            return pos[0] + (int) digestLength;
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, where + " starts with an invalid CID: " + e.getMessage(), e);
        }
    }

    /**
     * A minimal varint length of at most {@link #MAX_SECTION}; -1 at a clean end of stream. At most 3
     * bytes are read, so the value cannot overflow into a negative length that would pass for the end.
     */
    private long readLength(String what) throws IOException {
        long start = offset;
        long value = 0;
        for (int i = 0; ; i++) {
            int b = in.read();
            if (b < 0) {
                if (i == 0) {
                    return -1;
                }
                throw refused(IpfsException.Kind.FAILED, "the CAR ends inside the length of " + what);
            }
            offset++;
            if (i == 3) { // MAX_SECTION fits in 3 bytes: a 4th means a larger value, or one not minimal
                throw refused(IpfsException.Kind.FAILED, "the length of " + what + " (varint at byte offset "
                        + start + ") is longer than 3 bytes: over the limit of " + MAX_SECTION + " bytes");
            }
            if (b == 0 && i > 0) {
                throw refused(IpfsException.Kind.FAILED, "the length of " + what + " is not a minimal varint");
            }
            value |= (long) (b & 0x7f) << (7 * i);
            if (value > MAX_SECTION) {
                throw refused(IpfsException.Kind.FAILED, "the length of " + what + " (varint at byte offset "
                        + start + ") is over the limit of " + MAX_SECTION + " bytes");
            }
            if ((b & 0x80) == 0) {
                return value;
            }
        }
    }

    private byte[] readBody(int length, String what) throws IOException {
        byte[] bytes = in.readNBytes(length);
        offset += bytes.length;
        if (bytes.length != length) {
            throw refused(IpfsException.Kind.FAILED, "the CAR ends inside " + what + ": it should hold "
                    + length + " bytes, the stream ended after " + bytes.length);
        }
        return bytes;
    }

    private static byte[] varint(long value) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(4);
        Varint.write(out, value);
        return out.toByteArray();
    }

    private static IpfsException refused(IpfsException.Kind kind, String message) {
        return new IpfsException(kind, message);
    }

    private static IpfsException refused(IpfsException.Kind kind, String message, Throwable cause) {
        return new IpfsException(kind, message, cause);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
