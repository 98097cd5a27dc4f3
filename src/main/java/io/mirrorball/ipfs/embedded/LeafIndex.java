package io.mirrorball.ipfs.embedded;

/**
 * Where each leaf of the blob files is: a map from the first 8 bytes of a leaf's sha-256 digest to
 * (blob file number, leaf number), in two parallel arrays with open addressing, 16 bytes a leaf
 * (32 at the load factor kept here) instead of the ~80 a {@code HashMap} entry costs. Several
 * leaves may share a prefix: {@link #find} offers every candidate and the caller compares the whole
 * digest. Entries of a file that was removed stay until the caller {@link #clear}s and refills the index; it skips
 * them. Thread-safe.
 */
final class LeafIndex {
    private static final long EMPTY = -1L;

    private long[] keys = new long[1024];
    private long[] values = newValues(1024);
    private int size;

    /** Receives a candidate location; returns true to stop the search. */
    interface Candidate {
        boolean test(int file, int leaf);
    }

    synchronized void add(byte[] digest, int file, int leaf) {
        if (2 * (size + 1) > keys.length) {
            grow(keys.length * 2);
        }
        insert(prefix(digest), ((long) file << 32) | (leaf & 0xffffffffL));
        size++;
    }

    /** Offers every location whose digest starts as this one's, until the candidate test says stop. */
    synchronized void find(byte[] digest, Candidate candidate) {
        long key = prefix(digest);
        int mask = keys.length - 1;
        for (int slot = slot(key, mask); values[slot] != EMPTY; slot = (slot + 1) & mask) {
            if (keys[slot] == key && candidate.test((int) (values[slot] >>> 32), (int) values[slot])) {
                return;
            }
        }
    }

    /** Leaves stored, counting those of removed files until a rebuild. */
    synchronized int size() {
        return size;
    }

    /** Drops every entry, ready to be filled again (after files were removed). */
    synchronized void clear() {
        keys = new long[1024];
        values = newValues(1024);
        size = 0;
    }

    private void grow(int capacity) {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[capacity];
        values = newValues(capacity);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != EMPTY) {
                insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    private void insert(long key, long value) {
        int mask = keys.length - 1;
        int slot = slot(key, mask);
        while (values[slot] != EMPTY) {
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        values[slot] = value;
    }

    private static long[] newValues(int capacity) {
        long[] values = new long[capacity];
        java.util.Arrays.fill(values, EMPTY);
        return values;
    }

    private static int slot(long key, int mask) {
        return (int) (key ^ (key >>> 29)) & mask; // the digest is uniform: its bits are the hash
    }

    private static long prefix(byte[] digest) {
        long key = 0;
        for (int i = 0; i < 8; i++) {
            key = (key << 8) | (digest[i] & 0xff);
        }
        return key;
    }
}
