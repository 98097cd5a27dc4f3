package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;

/** Unsigned LEB128 varints, as used by multiformats and protobuf. */
public final class Varint {
    private Varint() {
    }

    public static void write(ByteArrayOutputStream out, long value) {
        long v = value;
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** Reads a varint at {@code pos[0]} and advances it. */
    public static long read(byte[] data, int[] pos) {
        long result = 0;
        int shift = 0;
        while (true) {
            if (pos[0] >= data.length) {
                throw new IllegalArgumentException("truncated varint");
            }
            int b = data[pos[0]++] & 0xff;
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
            shift += 7;
            if (shift > 63) {
                throw new IllegalArgumentException("varint too long");
            }
        }
    }

    static int size(long value) {
        int n = 1;
        long v = value;
        while ((v & ~0x7fL) != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }
}
