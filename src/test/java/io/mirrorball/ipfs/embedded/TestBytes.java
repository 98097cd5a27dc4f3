package io.mirrorball.ipfs.embedded;

import java.io.InputStream;

/** Deterministic pseudo-random content of any length, generated as it is read (never held whole). */
final class TestBytes extends InputStream {
    private long state;
    private long remaining;
    private long word;
    private int wordBytes;

    private TestBytes(long seed, long length) {
        this.state = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        this.remaining = length;
    }

    /** {@code length} bytes determined by {@code seed}. */
    static InputStream of(long seed, long length) {
        return new TestBytes(seed, length);
    }

    /**
     * Adds the stream's content with {@code add} or, when {@code streaming}, with {@code startAdd}
     * fed in pieces of {@code piece.length} bytes; returns the CID.
     */
    static io.mirrorball.ipfs.Cid add(io.mirrorball.ipfs.IpfsNode node, InputStream in, boolean streaming, byte[] piece)
            throws java.io.IOException {
        if (!streaming) {
            return node.add(in).cid();
        }
        try (io.mirrorball.ipfs.IpfsNode.StreamingAdd add = node.startAdd().orElseThrow()) {
            int n;
            while ((n = in.readNBytes(piece, 0, piece.length)) > 0) {
                add.write(piece, 0, n);
            }
            return add.finish().cid();
        }
    }

    private long next() {
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
        return state * 0x2545F4914F6CDD1DL;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (remaining <= 0) {
            return -1;
        }
        int n = (int) Math.min(len, remaining);
        for (int i = 0; i < n; i++) {
            if (wordBytes == 0) {
                word = next();
                wordBytes = 8;
            }
            b[off + i] = (byte) word;
            word >>>= 8;
            wordBytes--;
        }
        remaining -= n;
        return n;
    }
}
