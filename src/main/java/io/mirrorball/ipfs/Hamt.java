package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * HAMT-sharded UnixFS directories as Kubo (boxo {@code ipld/unixfs/hamt}) builds them. A shard is a
 * dag-pb node whose UnixFS Data is {@code {Type: HAMTShard, Data: bitfield, HashType: 0x22 (murmur3),
 * Fanout}}. Each entry name is hashed with murmur3-x64-64 (the first 64 bits of murmur3 x64 128, seed
 * 0, big-endian); a shard at depth d takes the slot from the next log2(fanout) bits of the hash, most
 * significant first. A slot holding one entry is a link named {@code <slot><name>} to the entry; a
 * slot holding several is a link named {@code <slot>} to a child shard of them. The slot is written
 * as upper-case hex, zero-padded to the width of {@code fanout - 1} (two digits for 256). Links are
 * in slot order, and the bitfield is big-endian (slot i is bit i % 8 of byte {@code len - 1 - i / 8})
 * with its leading zero bytes dropped.
 *
 * <p>Kubo's insertions and removals keep this shape (a child shard left with one entry collapses
 * into its parent), so the shards are a function of the set of entries: building them from all the
 * entries gives the same blocks as any sequence of Kubo operations that ends with that set.
 */
public final class Hamt {
    /** The multihash code of murmur3-x64-64, the HashType of every shard. */
    public static final int MURMUR3_X64_64 = 0x22;

    private Hamt() {
    }

    /** One entry to place: its link (named by the entry) and the hash of its name. */
    private record Entry(DagPb.Link link, long hash) {
    }

    /**
     * Builds the shards of a directory with these entries (names already checked and unique).
     *
     * @param out receives every shard block, children before their parent; the root is the last one
     */
    static void build(List<DagPb.Link> links, int fanout, List<byte[]> out) {
        List<Entry> entries = new ArrayList<>(links.size());
        for (DagPb.Link link : links) {
            entries.add(new Entry(link, murmur3x64_64(link.name().getBytes(StandardCharsets.UTF_8))));
        }
        shard(entries, 0, fanout, out);
    }

    /** Encodes the shard of these entries at bit depth {@code consumed}; returns its block (also added to out). */
    private static byte[] shard(List<Entry> entries, int consumed, int fanout, List<byte[]> out) {
        int bits = Integer.numberOfTrailingZeros(fanout);
        if (consumed + bits > 64) {
            throw new IllegalArgumentException("HAMT: sharded directory too deep (entries with the same name hash)");
        }
        List<List<Entry>> slots = new ArrayList<>(fanout);
        for (int i = 0; i < fanout; i++) {
            slots.add(null);
        }
        for (Entry entry : entries) {
            int slot = slot(entry.hash(), consumed, bits);
            if (slots.get(slot) == null) {
                slots.set(slot, new ArrayList<>(2));
            }
            slots.get(slot).add(entry);
        }
        byte[] bitfield = new byte[fanout / 8];
        List<DagPb.Link> shardLinks = new ArrayList<>();
        String padding = "%0" + padding(fanout) + "X";
        for (int i = 0; i < fanout; i++) {
            List<Entry> slot = slots.get(i);
            if (slot == null) {
                continue;
            }
            bitfield[bitfield.length - 1 - i / 8] |= (byte) (1 << (i % 8));
            String prefix = String.format(padding, i);
            if (slot.size() == 1) {
                DagPb.Link link = slot.get(0).link();
                shardLinks.add(new DagPb.Link(prefix + link.name(), link.cid(), link.size()));
            } else {
                byte[] child = shard(slot, consumed + bits, fanout, out);
                shardLinks.add(new DagPb.Link(prefix, UnixFs.cidOf(child), UnixFs.cumulativeSize(child)));
            }
        }
        byte[] block = DagPb.encodeNode(shardData(bitfield, fanout), shardLinks);
        out.add(block);
        return block;
    }

    /** The next {@code bits} bits of the hash after {@code consumed}, most significant first. */
    public static int slot(long hash, int consumed, int bits) {
        return (int) ((hash >>> (64 - consumed - bits)) & ((1L << bits) - 1));
    }

    /** The UnixFS Data of a shard: Type 5, Data (bitfield without leading zero bytes), HashType, Fanout. */
    private static byte[] shardData(byte[] bitfield, int fanout) {
        int first = 0;
        while (first < bitfield.length && bitfield[first] == 0) {
            first++;
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream(16 + bitfield.length);
        data.write(0x08);
        data.write(UnixFs.TYPE_HAMT_SHARD);
        if (first < bitfield.length) {
            data.write(0x12);
            Varint.write(data, bitfield.length - first);
            data.write(bitfield, first, bitfield.length - first);
        }
        data.write(0x28);
        Varint.write(data, MURMUR3_X64_64);
        data.write(0x30);
        Varint.write(data, fanout);
        return data.toByteArray();
    }

    /** The bit depth of each child of a shard: its parent's plus log2(fanout). */
    public static int bitsPerLevel(int fanout) {
        return Integer.numberOfTrailingZeros(fanout);
    }

    /** The hex digits of a slot in link names: those of {@code fanout - 1} (two for 256). */
    public static int padding(int fanout) {
        return Integer.toHexString(fanout - 1).length();
    }

    /** The slot that a shard link's name starts with (its first {@code padding} hex digits). */
    public static int linkSlot(String linkName, int padding) {
        if (linkName.length() < padding) {
            throw new IllegalArgumentException("HAMT link name shorter than its slot: '" + linkName + "'");
        }
        int slot = 0;
        for (int i = 0; i < padding; i++) {
            int digit = Character.digit(linkName.charAt(i), 16);
            if (digit < 0) {
                throw new IllegalArgumentException("HAMT link name without a hex slot: '" + linkName + "'");
            }
            slot = slot * 16 + digit;
        }
        return slot;
    }

    /** murmur3 x64 128 with seed 0, its first 64 bits (h1): Go's {@code murmur3.New64()} as boxo uses it. */
    public static long murmur3x64_64(byte[] data) {
        final long c1 = 0x87c37b91114253d5L;
        final long c2 = 0x4cf5ad432745937fL;
        long h1 = 0;
        long h2 = 0;
        int blocks = data.length / 16;
        for (int i = 0; i < blocks; i++) {
            long k1 = littleEndian(data, i * 16);
            long k2 = littleEndian(data, i * 16 + 8);
            k1 *= c1;
            k1 = Long.rotateLeft(k1, 31);
            k1 *= c2;
            h1 ^= k1;
            h1 = Long.rotateLeft(h1, 27);
            h1 += h2;
            h1 = h1 * 5 + 0x52dce729;
            k2 *= c2;
            k2 = Long.rotateLeft(k2, 33);
            k2 *= c1;
            h2 ^= k2;
            h2 = Long.rotateLeft(h2, 31);
            h2 += h1;
            h2 = h2 * 5 + 0x38495ab5;
        }
        int tail = blocks * 16;
        int rest = data.length & 15;
        long k1 = 0;
        long k2 = 0;
        for (int i = rest - 1; i >= 8; i--) {
            k2 ^= (long) (data[tail + i] & 0xff) << ((i - 8) * 8);
        }
        if (rest > 8) {
            k2 *= c2;
            k2 = Long.rotateLeft(k2, 33);
            k2 *= c1;
            h2 ^= k2;
        }
        for (int i = Math.min(rest, 8) - 1; i >= 0; i--) {
            k1 ^= (long) (data[tail + i] & 0xff) << (i * 8);
        }
        if (rest > 0) {
            k1 *= c1;
            k1 = Long.rotateLeft(k1, 31);
            k1 *= c2;
            h1 ^= k1;
        }
        h1 ^= data.length;
        h2 ^= data.length;
        h1 += h2;
        h2 += h1;
        h1 = fmix(h1);
        h2 = fmix(h2);
        h1 += h2;
        return h1;
    }

    private static long fmix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private static long littleEndian(byte[] data, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (data[at + i] & 0xff);
        }
        return v;
    }
}
