package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * The blob tier of the blockstore: every import of more than one chunk writes its raw leaves once,
 * sequentially, into a data file of its own, whose content is therefore the imported bytes, with
 * a small index beside it (as Kubo's filestore keeps leaves in the user's file, but in files this
 * store owns). The file's dag-pb nodes are ordinary small blocks ({@link Blockstore}).
 *
 * <pre>
 * blobs/&lt;root sha-256 hex&gt;.data   the leaves, concatenated: leaf n at n × 262144
 * blobs/&lt;root sha-256 hex&gt;.idx    the leaves' sha-256 digests in order, then a trailer (see {@link Sidecar})
 * blobs/.tmp/                     imports in progress (deleted at open)
 * </pre>
 *
 * <p>Commit: the data file is renamed into place first, then its index; the index's rename is the
 * commit point. A data file without an index is an import that never finished (or a removal that
 * was interrupted), and {@link #open} deletes it. An index is loaded only when its length agrees
 * with the data file and the root CID recomputed from its digests (see {@link Importer#rootOf}) is
 * the one it is named by, so a lookup by root is as trustworthy as the DAG it stands for. Files
 * are not fsynced at the commit: {@link #syncPending} forces them before the MFS root or a pin can
 * refer to them, as for every other block.
 *
 * <p>Identical imports share one pair of files (the name is the root): a second import replaces
 * the first with its freshly hashed bytes, which repairs a data file corrupted on disk.
 */
final class BlobFiles {
    static final int CHUNK = Importer.CHUNK;
    private static final HexFormat HEX = HexFormat.of();

    private final Path dir;
    private final Path tmp;
    private final Map<String, DataFile> byRoot = new ConcurrentHashMap<>();
    /** Files by number; null once removed or replaced. Guarded by itself. */
    private final List<DataFile> byNumber = new ArrayList<>();
    private final LeafIndex leaves = new LeafIndex();
    /** Leaves of the files in {@link #byRoot}: a commit need not count them. Guarded by byNumber. */
    private long liveLeaves;
    private final Set<Path> pendingFiles = ConcurrentHashMap.newKeySet();
    private volatile boolean directoryPending;
    private final AtomicLong tmpCounter = new AtomicLong();
    /** Roots (hex) whose index could not be loaded at open, with the reason; until repaired or replaced. */
    private final Map<String, String> unreadable;

    /** One committed blob file. */
    record DataFile(int number, byte[] root, Path data, Path index, long length, byte[] digests) {
        int leafCount() {
            return digests.length / 32;
        }

        int leafLength(int leaf) {
            return leaf < leafCount() - 1 ? CHUNK : (int) (length - (long) (leafCount() - 1) * CHUNK);
        }

        boolean leafIs(int leaf, byte[] digest) {
            return Arrays.equals(digests, leaf * 32, leaf * 32 + 32, digest, 0, 32);
        }

        byte[] leafDigest(int leaf) {
            return Arrays.copyOfRange(digests, leaf * 32, leaf * 32 + 32);
        }

        Cid rootCid() {
            return Cid.sha256(Cid.DAG_PB, root);
        }
    }

    /** A leaf of a blob file. */
    record Leaf(DataFile file, int index) {
        long offset() {
            return (long) index * CHUNK;
        }

        int length() {
            return file.leafLength(index);
        }
    }

    private BlobFiles(Path dir, Map<String, String> unreadable) {
        this.dir = dir;
        this.tmp = dir.resolve(".tmp");
        this.unreadable = unreadable;
    }

    /**
     * Opens the blob files in {@code dir}: deletes unfinished imports and data files without an
     * index, and loads every index that checks out. Indexes that do not are left on disk and
     * reported by {@link #unreadable()}.
     */
    static BlobFiles open(Path dir) throws IOException {
        Files.createDirectories(dir.resolve(".tmp"));
        BlobFiles files = new BlobFiles(dir, new ConcurrentHashMap<>());
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(files.tmp)) {
            for (Path file : stale) {
                Files.deleteIfExists(file);
            }
        }
        List<Path> dataFiles = new ArrayList<>();
        List<Path> indexes = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.endsWith(".data") && isHex(name, ".data")) {
                    dataFiles.add(entry);
                } else if (name.endsWith(".idx") && isHex(name, ".idx")) {
                    indexes.add(entry);
                }
            }
        }
        for (Path data : dataFiles) {
            String hex = hexOf(data, ".data");
            if (!Files.exists(dir.resolve(hex + ".idx"))) {
                Files.deleteIfExists(data); // never committed, or a removal that was cut short
            }
        }
        indexes.sort(null);
        for (Path index : indexes) {
            String hex = hexOf(index, ".idx");
            try {
                files.register(HEX.parseHex(hex), dir.resolve(hex + ".data"), index, Sidecar.read(index));
            } catch (IOException | RuntimeException e) {
                files.unreadable.put(hex, String.valueOf(e.getMessage()));
            }
        }
        return files;
    }

    /** Index files that could not be loaded at open, with the reason (for fsck). */
    List<String> unreadable() {
        return new java.util.TreeMap<>(unreadable).entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    /** The data file of a blob whose index could not be loaded (it may be gone too). */
    Optional<Path> unreadableData(String hex) {
        return unreadable.containsKey(hex) ? Optional.of(dir.resolve(hex + ".data")) : Optional.empty();
    }

    /** Deletes the files of a blob whose index could not be loaded, once its leaves were saved elsewhere. */
    void removeUnreadable(String hex) throws IOException {
        Files.deleteIfExists(dir.resolve(hex + ".idx"));
        Blockstore.fsyncDirectory(dir);
        Files.deleteIfExists(dir.resolve(hex + ".data"));
        unreadable.remove(hex);
        directoryPending = true;
    }

    /** Starts an import into a new blob file; the caller finishes or closes it. */
    BlobFileWriter newImport(Blockstore smallBlocks, ExecutorService threads) throws IOException {
        long n = tmpCounter.incrementAndGet();
        return new BlobFileWriter(this, smallBlocks, tmp.resolve(n + ".data"), threads);
    }

    /**
     * Commits a finished import: renames its data file, writes its index beside it, and makes its
     * leaves visible. Replaces a blob file with the same root.
     */
    DataFile commit(byte[] root, Path tempData, long length, byte[] digests) throws IOException {
        String hex = HEX.formatHex(root);
        Path data = dir.resolve(hex + ".data");
        Path index = dir.resolve(hex + ".idx");
        Path tempIndex = tempData.resolveSibling(tempData.getFileName() + ".idx");
        Sidecar.write(tempIndex, length, digests);
        Files.move(tempData, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tempIndex, index, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        pendingFiles.add(data);
        pendingFiles.add(index);
        directoryPending = true;
        unreadable.remove(hex); // replaced by a good pair
        return register(root, data, index, new Sidecar(length, digests));
    }

    private DataFile register(byte[] root, Path data, Path index, Sidecar sidecar) throws IOException {
        long actual = Files.size(data);
        if (actual != sidecar.length()) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "data file holds " + actual + " bytes, its index "
                    + sidecar.length());
        }
        Cid computed = Importer.rootOf(sidecar.digests(), sidecar.length());
        if (!Arrays.equals(computed.sha256Digest(), root) || computed.codec() != Cid.DAG_PB) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "index does not belong to its root (it gives "
                    + computed + ")");
        }
        DataFile file;
        synchronized (byNumber) {
            file = new DataFile(byNumber.size(), root, data, index, sidecar.length(), sidecar.digests());
            byNumber.add(file);
            DataFile replaced = byRoot.put(HEX.formatHex(root), file);
            liveLeaves += file.leafCount();
            if (replaced != null) {
                byNumber.set(replaced.number(), null);
                liveLeaves -= replaced.leafCount();
            }
            for (int leaf = 0; leaf < file.leafCount(); leaf++) {
                leaves.add(file.leafDigest(leaf), file.number(), leaf);
            }
            compactIndexIfStale();
        }
        return file;
    }

    /**
     * The leaf with this sha-256 digest, when a blob file holds it. Holds byNumber, then the leaf
     * index, as {@link #register} does: so a commit is seen whole (a replaced file's leaves are
     * found in the new file, never in neither), and the two locks are never taken in opposite order.
     */
    Optional<Leaf> locate(byte[] digest) {
        Leaf[] found = new Leaf[1];
        synchronized (byNumber) {
            leaves.find(digest, (number, leaf) -> {
                DataFile file = byNumber.get(number);
                if (file != null && file.leafIs(leaf, digest)) {
                    found[0] = new Leaf(file, leaf);
                    return true;
                }
                return false;
            });
        }
        return Optional.ofNullable(found[0]);
    }

    /** The blob file whose root has this sha-256 digest. */
    Optional<DataFile> byRoot(byte[] rootDigest) {
        return Optional.ofNullable(byRoot.get(HEX.formatHex(rootDigest)));
    }

    /** Every committed blob file. */
    List<DataFile> all() {
        return List.copyOf(byRoot.values());
    }

    /** The leaf's bytes as stored, unverified; empty when its file is gone or too short. */
    Optional<byte[]> read(Leaf leaf) throws IOException {
        byte[] bytes = new byte[leaf.length()];
        try (FileChannel channel = FileChannel.open(leaf.file().data(), StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            long position = leaf.offset();
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, position);
                if (n < 0) {
                    return Optional.empty();
                }
                position += n;
            }
        } catch (NoSuchFileException removed) {
            return Optional.empty();
        }
        return Optional.of(bytes);
    }

    /**
     * Streams {@code length} bytes (-1: to the end) from {@code offset} of the blob. With
     * {@code verify}, every leaf the range touches is read whole and checked against its digest
     * before any of its bytes are returned; without, the bytes are read as stored, for a caller that
     * checks them against a digest of its own.
     */
    InputStream open(DataFile file, long offset, long length, boolean verify) throws IOException {
        long end = length < 0 || length > file.length() - offset ? file.length() : offset + length; // no overflow
        return new BlobFileInputStream(file, Math.min(offset, end), end, verify);
    }

    /**
     * Reads the blob file sequentially and checks every leaf against its digest; gives the digest of
     * every leaf that does not match (or that the file is too short to hold).
     */
    void verifyLeaves(DataFile file, Blockstore.DigestVisitor corrupt) throws IOException {
        try (InputStream in = java.nio.channels.Channels.newInputStream(FileChannel.open(file.data(),
                StandardOpenOption.READ))) {
            MessageDigest sha256 = newSha256();
            byte[] buffer = new byte[CHUNK];
            for (int leaf = 0; leaf < file.leafCount(); leaf++) {
                int length = file.leafLength(leaf);
                int n = in.readNBytes(buffer, 0, length);
                sha256.update(buffer, 0, n);
                if (n < length | !file.leafIs(leaf, sha256.digest())) {
                    corrupt.visit(file.leafDigest(leaf));
                }
            }
        } catch (NoSuchFileException gone) {
            for (int leaf = 0; leaf < file.leafCount(); leaf++) {
                corrupt.visit(file.leafDigest(leaf));
            }
        }
    }

    /**
     * Removes a blob file: the index first, so an interruption leaves a data file without an index,
     * which the next open deletes.
     */
    void remove(DataFile file) throws IOException {
        synchronized (byNumber) {
            if (byRoot.remove(HEX.formatHex(file.root()), file)) {
                byNumber.set(file.number(), null);
                liveLeaves -= file.leafCount();
            }
        }
        Files.deleteIfExists(file.index());
        Blockstore.fsyncDirectory(dir); // the index is gone for good before the data file goes
        Files.deleteIfExists(file.data());
        pendingFiles.remove(file.index());
        pendingFiles.remove(file.data());
        directoryPending = true;
    }

    /** Forces every blob file committed since the last call, then the directory, to disk. */
    void syncPending() throws IOException {
        boolean directory = directoryPending;
        directoryPending = false;
        List<Path> files = new ArrayList<>(pendingFiles);
        for (Path file : files) {
            // taken off before the fsync: a commit of the same name from now on is tracked again
            if (!pendingFiles.remove(file)) {
                continue;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (NoSuchFileException removed) {
                // removed since: nothing to keep
            } catch (IOException e) {
                pendingFiles.add(file);
                directoryPending = true;
                throw e;
            }
        }
        if (directory || !files.isEmpty()) {
            Blockstore.fsyncDirectory(dir);
        }
    }

    /** Rebuilds the leaf index when most of its entries belong to removed files. Holds byNumber. */
    private void compactIndexIfStale() {
        if (leaves.size() > 1024 && leaves.size() > 2L * liveLeaves) {
            leaves.clear();
            for (DataFile file : byRoot.values()) {
                for (int leaf = 0; leaf < file.leafCount(); leaf++) {
                    leaves.add(file.leafDigest(leaf), file.number(), leaf);
                }
            }
        }
    }

    private static boolean isHex(String name, String suffix) {
        String hex = name.substring(0, name.length() - suffix.length());
        return hex.length() == 64 && hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    private static String hexOf(Path file, String suffix) {
        String name = file.getFileName().toString();
        return name.substring(0, name.length() - suffix.length());
    }

    /**
     * A blob file's index: the leaves' sha-256 digests in order (32 bytes each), then a 32-byte
     * trailer: magic {@code MBIDX1}, version (int), chunk size (int), content length (long), leaf
     * count (int), CRC32C of everything before the CRC (int). Big-endian.
     */
    record Sidecar(long length, byte[] digests) {
        private static final byte[] MAGIC = {'M', 'B', 'I', 'D', 'X', '1', 0, 0};
        private static final int VERSION = 1;
        private static final int TRAILER = 8 + 4 + 4 + 8 + 4 + 4;

        static void write(Path file, long length, byte[] digests) throws IOException {
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER).order(ByteOrder.BIG_ENDIAN);
            trailer.put(MAGIC).putInt(VERSION).putInt(CHUNK).putLong(length).putInt(digests.length / 32);
            CRC32C crc = new CRC32C();
            crc.update(digests);
            crc.update(trailer.array(), 0, TRAILER - 4);
            trailer.putInt((int) crc.getValue());
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer[] parts = {ByteBuffer.wrap(digests), trailer.flip()};
                while (parts[1].hasRemaining()) {
                    channel.write(parts);
                }
            }
        }

        static Sidecar read(Path file) throws IOException {
            long size = Files.size(file);
            if (size < TRAILER || (size - TRAILER) % 32 != 0 || size > Integer.MAX_VALUE) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "index of " + size + " bytes is malformed");
            }
            byte[] bytes = Files.readAllBytes(file); // 32 bytes a leaf: 128 KiB per GiB of blob
            ByteBuffer trailer = ByteBuffer.wrap(bytes, bytes.length - TRAILER, TRAILER).order(ByteOrder.BIG_ENDIAN);
            byte[] magic = new byte[8];
            trailer.get(magic);
            int version = trailer.getInt();
            int chunk = trailer.getInt();
            long length = trailer.getLong();
            int count = trailer.getInt();
            int stored = trailer.getInt();
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, bytes.length - 4);
            if (!Arrays.equals(magic, MAGIC) || version != VERSION || chunk != CHUNK
                    || (int) crc.getValue() != stored || count != (bytes.length - TRAILER) / 32) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "index is damaged (bad trailer or checksum)");
            }
            return new Sidecar(length, Arrays.copyOf(bytes, bytes.length - TRAILER));
        }
    }

    /** Reads a range of a blob file, a leaf at a time, each checked before it is handed out when asked. */
    private final class BlobFileInputStream extends InputStream {
        private final DataFile file;
        private final boolean verify;
        private final long end;
        private final MessageDigest sha256 = newSha256();
        private FileChannel channel;
        private long position;
        private ByteBuffer buffer = ByteBuffer.allocate(0);

        BlobFileInputStream(DataFile file, long start, long end, boolean verify) throws IOException {
            this.file = file;
            this.position = start;
            this.end = end;
            this.verify = verify;
            try {
                this.channel = FileChannel.open(file.data(), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "blob file of " + file.rootCid() + " is gone", e);
            }
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
            if (!verify) { // straight into the caller's array: no copy through a buffer of ours
                if (position >= end) {
                    return -1;
                }
                int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - position)), position);
                if (n < 0) {
                    throw new IpfsException(IpfsException.Kind.CORRUPT, "blob file of " + file.rootCid()
                            + " is shorter than its index says");
                }
                position += n;
                return n;
            }
            if (!buffer.hasRemaining() && !fill()) {
                return -1;
            }
            int n = Math.min(len, buffer.remaining());
            buffer.get(b, off, n);
            return n;
        }

        /** Reads the next piece: the rest of the current leaf (verified: the whole leaf, checked). */
        private boolean fill() throws IOException {
            if (position >= end) {
                return false;
            }
            int leaf = (int) (position / CHUNK);
            long leafStart = (long) leaf * CHUNK;
            int leafLength = file.leafLength(leaf);
            long next = Math.min(leafStart + leafLength, end);
            long from = verify ? leafStart : position;
            int count = (int) (verify ? leafLength : next - position);
            if (buffer.capacity() < count) {
                buffer = ByteBuffer.allocate(CHUNK);
            }
            buffer.clear().limit(count);
            long at = from;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, at);
                if (n < 0) {
                    throw new IpfsException(IpfsException.Kind.CORRUPT, "blob file of " + file.rootCid()
                            + " is shorter than its index says");
                }
                at += n;
            }
            buffer.flip();
            if (verify) {
                sha256.update(buffer.array(), 0, count);
                if (!file.leafIs(leaf, sha256.digest())) {
                    throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + Cid.sha256(Cid.RAW,
                            file.leafDigest(leaf)) + " is corrupt on disk");
                }
                buffer.limit((int) (next - leafStart)).position((int) (position - leafStart));
            }
            position = next;
            return true;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
