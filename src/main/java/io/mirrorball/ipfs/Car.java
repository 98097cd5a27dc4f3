package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * CAR v1: a varint-framed dag-cbor header {@code {roots: [cid...], version: 1}}, then one
 * varint-framed section (binary CID followed by the block) per block. Export walks the DAG depth
 * first in link order and writes each block once, as Kubo's {@code dag export} does; import
 * verifies every block against its CID before it is stored.
 */
public final class Car {
    private static final int MAX_HEADER = 64 * 1024;

    private Car() {
    }

    static byte[] header(List<Cid> roots) {
        ByteArrayOutputStream cbor = new ByteArrayOutputStream();
        cbor.write(0xa2);
        cborText(cbor, "roots");
        cborHead(cbor, 4, roots.size());
        for (Cid root : roots) {
            byte[] cid = root.bytes();
            cbor.write(0xd8);
            cbor.write(42);
            cborHead(cbor, 2, cid.length + 1);
            cbor.write(0);
            cbor.writeBytes(cid);
        }
        cborText(cbor, "version");
        cbor.write(0x01);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Varint.write(out, cbor.size());
        out.writeBytes(cbor.toByteArray());
        return out.toByteArray();
    }

    private static void cborText(ByteArrayOutputStream out, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        cborHead(out, 3, bytes.length);
        out.writeBytes(bytes);
    }

    private static void cborHead(ByteArrayOutputStream out, int major, long value) {
        int m = major << 5;
        if (value < 24) {
            out.write(m | (int) value);
        } else if (value < 0x100) {
            out.write(m | 24);
            out.write((int) value);
        } else if (value < 0x10000) {
            out.write(m | 25);
            out.write((int) (value >> 8));
            out.write((int) value);
        } else {
            out.write(m | 26);
            for (int shift = 24; shift >= 0; shift -= 8) {
                out.write((int) (value >> shift));
            }
        }
    }

    /** A lazily generated CAR of the DAG under {@code root}: one block in memory at a time. */
    public static InputStream export(UnixFsReader.BlockSource source, Cid root) {
        return new ExportStream(source, root);
    }

    private static final class ExportStream extends InputStream {
        private final UnixFsReader.BlockSource source;
        private final Deque<Cid> stack = new ArrayDeque<>();
        private final Set<Cid> seen = new HashSet<>();
        private byte[] current;
        private int position;

        ExportStream(UnixFsReader.BlockSource source, Cid root) {
            this.source = source;
            this.current = header(List.of(root));
            this.stack.push(root);
        }

        private boolean nextSection() throws IOException {
            while (!stack.isEmpty()) {
                Cid cid = stack.pop();
                if (!seen.add(cid)) {
                    continue;
                }
                byte[] block = source.get(cid);
                if (cid.codec() == Cid.DAG_PB) {
                    List<DagPb.Link> links = DagPb.decode(cid, block).links();
                    for (int i = links.size() - 1; i >= 0; i--) {
                        stack.push(links.get(i).cid());
                    }
                }
                byte[] cidBytes = cid.bytes();
                ByteArrayOutputStream section = new ByteArrayOutputStream(block.length + cidBytes.length + 10);
                Varint.write(section, (long) cidBytes.length + block.length);
                section.writeBytes(cidBytes);
                section.writeBytes(block);
                current = section.toByteArray();
                position = 0;
                return true;
            }
            return false;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (current == null || position >= current.length) {
                current = null;
                if (!nextSection()) {
                    return -1;
                }
            }
            int n = Math.min(len, current.length - position);
            System.arraycopy(current, position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public void close() {
            stack.clear();
            current = null;
        }
    }

    /** Something that stores verified blocks. */
    public interface BlockTarget {
        void put(byte[] digest, byte[] block, int length) throws IOException;
    }

    /**
     * Reads a CAR v1 stream to its end (not closed), storing every block after verifying it; returns the roots.
     * A section longer than {@code maxBlock} plus room for its CID is refused before it is read.
     */
    public static List<Cid> importCar(InputStream in, int maxBlock, BlockTarget target) throws IOException {
        try {
            return readCar(in, maxBlock, target);
        } catch (EOFException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: truncated CAR stream: " + e.getMessage(), e);
        }
    }

    private static List<Cid> readCar(InputStream in, int maxBlock, BlockTarget target) throws IOException {
        long headerLength = readVarint(in);
        if (headerLength <= 0 || headerLength > MAX_HEADER) {
            throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: invalid CAR header length " + headerLength);
        }
        byte[] header = readFully(in, (int) headerLength);
        List<Cid> roots = parseHeader(header);
        MessageDigest sha256 = sha256();
        while (true) {
            long length = readVarint(in);
            if (length < 0) {
                break;
            }
            if (length == 0 || length > maxBlock + 128) {
                throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: invalid CAR section length " + length);
            }
            byte[] section = readFully(in, (int) length);
            int[] pos = {0};
            Cid cid = sectionCid(section, pos);
            if (!cid.isSha256()) {
                throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: only sha2-256 blocks are supported: " + cid);
            }
            byte[] block = Arrays.copyOfRange(section, pos[0], section.length);
            byte[] digest = sha256.digest(block);
            if (!MessageDigest.isEqual(digest, cid.sha256Digest())) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "dag/import: block " + cid + " does not match its CID");
            }
            target.put(digest, block, block.length);
        }
        return roots;
    }

    private static Cid sectionCid(byte[] section, int[] pos) throws IpfsException {
        try {
            if (section.length >= 34 && section[0] == 0x12 && section[1] == 0x20) {
                pos[0] = 34;
                return Cid.fromBytes(Arrays.copyOf(section, 34));
            }
            Varint.read(section, pos);
            Varint.read(section, pos);
            Varint.read(section, pos);
            long digestLength = Varint.read(section, pos);
            if (digestLength < 0 || digestLength > section.length - pos[0]) {
                throw new IllegalArgumentException("truncated multihash");
            }
            pos[0] += (int) digestLength;
            return Cid.fromBytes(Arrays.copyOf(section, pos[0]));
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: invalid CID in CAR section: " + e.getMessage(), e);
        }
    }

    /** Minimal dag-cbor reading of {@code {roots: [tag42 bytes...], version: 1}}. */
    static List<Cid> parseHeader(byte[] header) throws IpfsException {
        try {
            int[] pos = {0};
            long[] head = cborHead(header, pos);
            if (head[0] != 5) {
                throw new IllegalArgumentException("header is not a map");
            }
            List<Cid> roots = null;
            long version = -1;
            for (long i = 0; i < head[1]; i++) {
                long[] key = cborHead(header, pos);
                if (key[0] != 3) {
                    throw new IllegalArgumentException("map key is not text");
                }
                String name = new String(header, pos[0], (int) key[1], StandardCharsets.UTF_8);
                pos[0] += (int) key[1];
                if (name.equals("roots") ? roots != null : name.equals("version") && version != -1) {
                    throw new IllegalArgumentException("repeated header key " + name); // dag-cbor has none
                }
                if (name.equals("roots")) {
                    long[] array = cborHead(header, pos);
                    if (array[0] != 4) {
                        throw new IllegalArgumentException("roots is not an array");
                    }
                    roots = new ArrayList<>();
                    for (long r = 0; r < array[1]; r++) {
                        long[] tag = cborHead(header, pos);
                        long[] bytes = cborHead(header, pos);
                        if (tag[0] != 6 || tag[1] != 42 || bytes[0] != 2 || bytes[1] < 2 || header[pos[0]] != 0) {
                            throw new IllegalArgumentException("a root is not a CID link");
                        }
                        if (bytes[1] > header.length - pos[0]) {
                            throw new IllegalArgumentException("a root is cut off by the end of the header");
                        }
                        roots.add(Cid.fromBytes(Arrays.copyOfRange(header, pos[0] + 1, pos[0] + (int) bytes[1])));
                        pos[0] += (int) bytes[1];
                    }
                } else if (name.equals("version")) {
                    long[] value = cborHead(header, pos);
                    if (value[0] != 0) {
                        throw new IllegalArgumentException("version is not an integer");
                    }
                    version = value[1];
                } else {
                    throw new IllegalArgumentException("unexpected header key " + name);
                }
            }
            if (version != 1 || roots == null) {
                throw new IllegalArgumentException("not a CAR v1 header (version " + version + ")");
            }
            return roots;
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, "dag/import: invalid CAR header: " + e.getMessage(), e);
        }
    }

    /** Major type and argument of a CBOR item head. */
    private static long[] cborHead(byte[] b, int[] pos) {
        int initial = b[pos[0]++] & 0xff;
        int major = initial >> 5;
        int info = initial & 31;
        long value;
        if (info < 24) {
            value = info;
        } else if (info <= 27) {
            int n = 1 << (info - 24);
            value = 0;
            for (int i = 0; i < n; i++) {
                value = (value << 8) | (b[pos[0]++] & 0xff);
            }
        } else {
            throw new IllegalArgumentException("indefinite or reserved CBOR item");
        }
        if (value < 0 || (major != 0 && major != 6 && value > b.length)) {
            throw new IllegalArgumentException("CBOR length out of range");
        }
        return new long[] {major, value};
    }

    /** A varint from a stream; -1 at a clean end of stream. */
    static long readVarint(InputStream in) throws IOException {
        long result = 0;
        int shift = 0;
        for (int i = 0; ; i++) {
            int b = in.read();
            if (b < 0) {
                if (i == 0) {
                    return -1;
                }
                throw new EOFException("CAR stream ends inside a varint");
            }
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
            shift += 7;
            if (shift > 56) {
                throw new IpfsException(IpfsException.Kind.FAILED, "varint too long in CAR stream");
            }
        }
    }

    private static byte[] readFully(InputStream in, int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new EOFException("CAR stream truncated: wanted " + length + " bytes, got " + bytes.length);
        }
        return bytes;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
