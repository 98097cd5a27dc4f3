package io.mirrorball.ipfs.kubo;

import io.mirrorball.ipfs.Cid;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The header of a CAR v1 stream: a varint length, then a dag-cbor map
 * {@code {"roots": [CID...], "version": 1}}. Kubo's {@code dag/import} prints the roots only when it
 * pins them, so {@link KuboRpcNode#dagImport} reads them here, then sends the header bytes ahead of
 * the rest of the stream.
 *
 * @param raw   the header bytes as read (length varint included), to send on unchanged
 * @param roots the root CIDs
 */
record KuboCar(byte[] raw, List<Cid> roots) {
    private static final int MAX_HEADER = 1 << 20;

    KuboCar {
        raw = raw.clone();
        roots = List.copyOf(roots);
    }

    /** Reads the header from the start of {@code in} (which is left just after it). */
    static KuboCar readHeader(InputStream in) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        long length = 0;
        int shift = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("CAR stream ends inside its header length");
            }
            raw.write(b);
            length |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 28) {
                throw new IllegalArgumentException("CAR header length varint too long");
            }
        }
        if (length <= 0 || length > MAX_HEADER) {
            throw new IllegalArgumentException("CAR header length " + length + " out of range");
        }
        byte[] header = in.readNBytes((int) length);
        if (header.length != length) {
            throw new EOFException("CAR stream ends inside its header");
        }
        raw.writeBytes(header);
        Cbor cbor = new Cbor(header);
        List<Cid> roots = new ArrayList<>();
        long version = -1;
        int entries = (int) cbor.head(5);
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < entries; i++) {
            String key = cbor.text();
            if (!keys.add(key)) {
                throw new IllegalArgumentException("repeated CAR header key " + key); // dag-cbor has none
            }
            switch (key) {
                case "version" -> version = cbor.head(0);
                case "roots" -> {
                    int n = (int) cbor.head(4);
                    for (int r = 0; r < n; r++) {
                        if (cbor.head(6) != 42) {
                            throw new IllegalArgumentException("CAR root is not a CID (tag 42)");
                        }
                        byte[] bytes = cbor.bytes();
                        if (bytes.length < 2 || bytes[0] != 0) {
                            throw new IllegalArgumentException("CAR root CID lacks the identity multibase byte");
                        }
                        roots.add(Cid.fromBytes(Arrays.copyOfRange(bytes, 1, bytes.length)));
                    }
                }
                default -> throw new IllegalArgumentException("unexpected CAR header key " + key);
            }
        }
        if (version != 1) {
            throw new IllegalArgumentException("not a CAR v1 stream (version " + version + ")");
        }
        return new KuboCar(raw.toByteArray(), roots);
    }

    /** Just enough dag-cbor for a CAR header. */
    private static final class Cbor {
        private final byte[] data;
        private int pos;

        Cbor(byte[] data) {
            this.data = data;
        }

        /** Reads an item head of the expected major type and returns its argument. */
        long head(int major) {
            int initial = next();
            if (initial >> 5 != major) {
                throw new IllegalArgumentException("CAR header: expected CBOR major type " + major
                        + ", found " + (initial >> 5));
            }
            int info = initial & 31;
            if (info < 24) {
                return info;
            }
            int size = switch (info) {
                case 24 -> 1;
                case 25 -> 2;
                case 26 -> 4;
                case 27 -> 8;
                default -> throw new IllegalArgumentException("CAR header: indefinite CBOR lengths are not dag-cbor");
            };
            long value = 0;
            for (int i = 0; i < size; i++) {
                value = (value << 8) | next();
            }
            if (value < 0 || value > MAX_HEADER) {
                throw new IllegalArgumentException("CAR header: CBOR value out of range");
            }
            return value;
        }

        String text() {
            return new String(take((int) head(3)), StandardCharsets.UTF_8);
        }

        byte[] bytes() {
            return take((int) head(2));
        }

        private byte[] take(int n) {
            if (pos + n > data.length) {
                throw new IllegalArgumentException("CAR header: truncated CBOR");
            }
            byte[] out = Arrays.copyOfRange(data, pos, pos + n);
            pos += n;
            return out;
        }

        private int next() {
            if (pos >= data.length) {
                throw new IllegalArgumentException("CAR header: truncated CBOR");
            }
            return data[pos++] & 0xff;
        }
    }
}
