package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The embedded node's blocks, in two tiers. Imports of more than one chunk keep their leaves in
 * blob files ({@link BlobFiles}: one data file per import, the bytes written once, sequentially).
 * Every other block (dag-pb nodes, directories, small files, {@code block/put}, blocks fetched from
 * gateways, and every block a data directory of an older version holds) is a small-block file:
 * {@code blocks/<first 2 hex of sha-256>/<64 hex>}. Lookups try the blob files first. Blocks are
 * keyed by their sha2-256 digest (as Kubo keys by multihash), so one entry serves a raw and a dag-pb
 * CID of the same bytes. A block file is written to a temp file and renamed into place, so a reader
 * sees a whole block or none. Files are not fsynced one by one: {@link #syncPending()} forces every
 * block (and blob file) written since the last call, and the MFS root and pin set are only
 * published after it returned.
 */
final class Blockstore {
    static final int MAX_BLOCK = 2 * 1024 * 1024;
    static final int SYNC_PARALLEL = 8;
    private static final HexFormat HEX = HexFormat.of();

    private final Path blocks;
    private final Path tmp;
    private final Set<Path> pendingFiles = ConcurrentHashMap.newKeySet();
    private final Set<Path> pendingDirs = ConcurrentHashMap.newKeySet();
    private final AtomicLong tmpCounter = new AtomicLong();
    private final Set<Path> knownDirs = ConcurrentHashMap.newKeySet();
    private final BlobFiles blobs;
    private final GatewayFetcher fetcher;
    /** Runs the fsyncs of {@link #syncPending} side by side; null: one after the other. */
    private final ExecutorService syncThreads;
    /**
     * Puts hold the read lock, garbage collection's removal of one file the write lock: a put that
     * found its block stored (and refreshed the file's time) cannot have it removed under it.
     */
    private final ReentrantReadWriteLock removals = new ReentrantReadWriteLock();
    /**
     * Digests of the dag-pb nodes of imports in progress, with a count (two imports may write the
     * same node): an import writes them over its whole length, so gc keeps them whatever their age.
     */
    private final java.util.concurrent.ConcurrentHashMap<ByteBuffer, Integer> importing =
            new java.util.concurrent.ConcurrentHashMap<>();

    private Blockstore(Path blocks, BlobFiles blobs, GatewayFetcher fetcher, ExecutorService syncThreads) {
        this.blocks = blocks;
        this.blobs = blobs;
        this.tmp = blocks.resolve(".tmp");
        this.fetcher = fetcher;
        this.syncThreads = syncThreads;
    }

    /** The blockstore of the node in {@code dir}: small blocks in {@code dir/blocks}, blob files in {@code dir/blobs}. */
    static Blockstore open(Path dir) throws IOException {
        return open(dir, null, null);
    }

    /**
     * A blockstore that fetches missing blocks through {@code fetcher} (null for none) in {@link #get},
     * and fsyncs on {@code syncThreads} (null: on the caller's thread).
     */
    static Blockstore open(Path dir, GatewayFetcher fetcher, ExecutorService syncThreads) throws IOException {
        Path blocks = dir.resolve("blocks");
        Files.createDirectories(blocks.resolve(".tmp"));
        Blockstore store = new Blockstore(blocks, BlobFiles.open(dir.resolve("blobs")), fetcher, syncThreads);
        // temp files of a process that was killed: never renamed into place, so never referenced
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(store.tmp)) {
            for (Path file : stale) {
                Files.deleteIfExists(file);
            }
        }
        return store;
    }

    /**
     * Stores a block whose sha-256 digest the caller computed (over exactly these bytes). The file is
     * fsynced by the next {@link #syncPending()}.
     */
    void put(byte[] digest, byte[] block, int length) throws IOException {
        removals.readLock().lock();
        try {
            Optional<BlobFiles.Leaf> leaf = blobs.locate(digest);
            if (leaf.isPresent() && verified(blobs.read(leaf.get()), digest).isPresent()) {
                touch(leaf.get().file().data()); // a blob file holds it already: young again for gc's grace
                return;
            }
            write(digest, block, length, true);
        } finally {
            removals.readLock().unlock();
        }
    }

    /** Stores a dag-pb node of an import in progress: gc keeps it until {@link #importEnded}. */
    void putImportNode(byte[] digest, byte[] block) throws IOException {
        importing.merge(ByteBuffer.wrap(digest.clone()), 1, Integer::sum);
        put(digest, block, block.length);
    }

    /** Gives these blocks' files the current time, so that gc's grace counts from now (missing files are skipped). */
    void refresh(List<byte[]> digests) throws IOException {
        removals.readLock().lock();
        try {
            for (byte[] digest : digests) {
                touch(file(digest));
            }
        } finally {
            removals.readLock().unlock();
        }
    }

    /** The import that wrote these nodes ended (committed or not): gc judges them by their age again. */
    void importEnded(List<byte[]> digests) {
        for (byte[] digest : digests) {
            importing.computeIfPresent(ByteBuffer.wrap(digest), (key, count) -> count == 1 ? null : count - 1);
        }
    }

    /** Commits a finished import's blob file (see {@link BlobFiles#commit}), never while gc removes a file. */
    BlobFiles.DataFile commitBlob(byte[] root, Path tempData, long length, byte[] digests) throws IOException {
        removals.readLock().lock();
        try {
            return blobs.commit(root, tempData, length, digests);
        } finally {
            removals.readLock().unlock();
        }
    }

    /** Starts an import whose leaves go into a blob file of their own (see {@link BlobFileWriter}). */
    BlobFileWriter newImport(ExecutorService threads) throws IOException {
        return blobs.newImport(this, threads);
    }

    /** The blob files. */
    BlobFiles blobs() {
        return blobs;
    }

    /**
     * Stores a block that the MFS log journals (its bytes are in a log record): the file is not
     * tracked for {@link #syncPending()}, the log syncs it at its checkpoint. Returns the digest.
     */
    byte[] putJournaled(byte[] block) throws IOException {
        byte[] digest = UnixFs.sha256(block);
        removals.readLock().lock();
        try {
            write(digest, block, block.length, false);
        } finally {
            removals.readLock().unlock();
        }
        return digest;
    }

    private void write(byte[] digest, byte[] block, int length, boolean track) throws IOException {
        if (length > MAX_BLOCK) {
            throw new IpfsException(IpfsException.Kind.FAILED, "block of " + length + " bytes is over the "
                    + MAX_BLOCK + "-byte limit");
        }
        Path file = file(digest);
        // java.io.File#length is 0 for a missing file, without the cost of an exception per new block
        if (file.toFile().length() == length && (length > 0 || Files.exists(file)) && holds(file, digest)) {
            touch(file); // stored again: young again for gc's grace
            if (track) {
                pendingFiles.add(file); // may have been written, not yet synced, by a process that died
            }
            return;
        }
        Path dir = file.getParent();
        if (!knownDirs.contains(dir)) {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                pendingDirs.add(blocks); // also for journaled blocks: a checkpoint needs the directory entry
            }
            knownDirs.add(dir);
        }
        Path temp = tmp.resolve(Thread.currentThread().getId() + "-" + tmpCounter.incrementAndGet());
        try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(block, 0, length);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(temp);
            throw new IpfsException(IpfsException.Kind.FAILED, "blockstore needs atomic renames: " + blocks, e);
        } catch (FileAlreadyExistsException raced) {
            Files.deleteIfExists(temp);
        }
        if (track) {
            pendingFiles.add(file);
            pendingDirs.add(dir);
        }
    }

    /**
     * True when the file holds the block with this digest. A file of the right length is read back
     * before a put skips it: a block corrupted on disk (same length, other bytes) is rewritten by
     * the next put of the same block, so a re-push repairs it.
     */
    private static boolean holds(Path file, byte[] digest) throws IOException {
        try {
            return MessageDigest.isEqual(UnixFs.sha256(Files.readAllBytes(file)), digest);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Hashes and stores a block; returns its sha-256 digest. */
    byte[] put(byte[] block) throws IOException {
        byte[] digest = UnixFs.sha256(block);
        put(digest, block, block.length);
        return digest;
    }

    /** The block's bytes, unverified; empty when absent. */
    Optional<byte[]> read(Cid cid) throws IOException {
        requireSha256(cid);
        Optional<BlobFiles.Leaf> leaf = blobs.locate(cid.sha256Digest());
        if (leaf.isPresent()) {
            Optional<byte[]> bytes = blobs.read(leaf.get());
            if (bytes.isPresent()) {
                return bytes;
            }
        }
        return readFile(cid.sha256Digest());
    }

    private Optional<byte[]> readFile(byte[] digest) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file(digest)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static Optional<byte[]> verified(Optional<byte[]> block, byte[] digest) {
        return block.filter(bytes -> MessageDigest.isEqual(UnixFs.sha256(bytes), digest));
    }

    /**
     * The block's bytes after checking them against the CID. A block that is not here is fetched
     * from the gateways, when there are any, and stored.
     */
    byte[] get(Cid cid) throws IOException {
        requireSha256(cid);
        byte[] digest = cid.sha256Digest();
        boolean corrupt = false;
        Optional<BlobFiles.Leaf> leaf = blobs.locate(digest);
        if (leaf.isPresent()) {
            Optional<byte[]> stored = blobs.read(leaf.get());
            Optional<byte[]> good = verified(stored, digest);
            if (good.isPresent()) {
                return good.get();
            }
            corrupt = stored.isPresent();
        }
        Optional<byte[]> local = readFile(digest);
        Optional<byte[]> good = verified(local, digest);
        if (good.isPresent()) {
            return good.get();
        }
        corrupt |= local.isPresent();
        if (fetcher != null) {
            Optional<byte[]> fetched = fetcher.fetch(cid);
            if (fetched.isPresent()) {
                write(digest, fetched.get(), fetched.get().length, true); // replaces a corrupt file
                return fetched.get();
            }
        }
        if (corrupt) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " is corrupt on disk");
        }
        throw new IpfsNotFoundException("block " + cid + " not found");
    }

    /** Every block file's digest (temp files and anything not named like a block are skipped). */
    void forEachFile(DigestVisitor visitor) throws IOException {
        try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(blocks)) {
            for (Path prefix : prefixes) {
                String name = prefix.getFileName().toString();
                if (name.length() != 2 || !Files.isDirectory(prefix)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(prefix)) {
                    for (Path file : files) {
                        String hex = file.getFileName().toString();
                        if (hex.length() == 64 && hex.startsWith(name) && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0
                                && !Character.isUpperCase(c))) {
                            visitor.visit(HEX.parseHex(hex));
                        }
                    }
                }
            }
        }
    }

    /** Receives a block digest. */
    interface DigestVisitor {
        void visit(byte[] digest) throws IOException;
    }

    /**
     * Reads the block file with this digest and checks it; true when it holds the block, false when
     * its bytes hash to something else, empty when there is no such file.
     */
    Optional<Boolean> verify(byte[] digest) throws IOException {
        Path file = file(digest);
        try {
            return Optional.of(MessageDigest.isEqual(UnixFs.sha256(Files.readAllBytes(file)), digest));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Deletes the block file with this digest if it does not hold the block (checked again here);
     * returns true when it deleted it. A put of the block writes it again. A corrupt leaf of a blob
     * file cannot be cut out of it: the blob file's good leaves are copied into block files, and the
     * blob file is removed.
     */
    boolean removeCorrupt(byte[] digest) throws IOException {
        Optional<BlobFiles.Leaf> leaf = blobs.locate(digest);
        if (leaf.isPresent() && verified(blobs.read(leaf.get()), digest).isEmpty()) {
            BlobFiles.DataFile file = leaf.get().file();
            for (int i = 0; i < file.leafCount(); i++) {
                byte[] other = file.leafDigest(i);
                Optional<byte[]> good = verified(blobs.read(new BlobFiles.Leaf(file, i)), other);
                if (good.isPresent()) {
                    write(other, good.get(), good.get().length, true);
                }
            }
            syncPending(); // the good leaves are safe in their new place before the blob file goes
            blobs.remove(file);
            return true;
        }
        if (verify(digest).orElse(true)) {
            return false;
        }
        Files.deleteIfExists(file(digest));
        pendingDirs.add(file(digest).getParent());
        return true;
    }

    /**
     * Garbage collection: deletes the block file with this digest unless it was modified at or after
     * {@code cutoff} (a put stores or refreshes a file under the read lock, so a block put before
     * this returns is never lost). Returns the bytes freed, or -1 when the file was kept or absent.
     */
    long removeFileIfOlder(byte[] digest, Instant cutoff) throws IOException {
        Path file = file(digest);
        removals.writeLock().lock();
        try {
            if (importing.containsKey(ByteBuffer.wrap(digest))) {
                return -1;
            }
            long size;
            try {
                if (!Files.getLastModifiedTime(file).toInstant().isBefore(cutoff)) {
                    return -1;
                }
                size = Files.size(file);
            } catch (NoSuchFileException gone) {
                return -1;
            }
            Files.deleteIfExists(file);
            pendingFiles.remove(file);
            pendingDirs.add(file.getParent());
            return size;
        } finally {
            removals.writeLock().unlock();
        }
    }

    /**
     * Garbage collection: removes a blob file (see {@link BlobFiles#remove}) unless it was replaced,
     * or its data file modified (by a commit or a put that found a leaf in it), at or after
     * {@code cutoff}. Returns the bytes freed, or -1 when it was kept.
     */
    long removeBlobIfOlder(BlobFiles.DataFile file, Instant cutoff) throws IOException {
        removals.writeLock().lock();
        try {
            if (blobs.byRoot(file.root()).orElse(null) != file) {
                return -1;
            }
            long size;
            try {
                if (!Files.getLastModifiedTime(file.data()).toInstant().isBefore(cutoff)
                        || !Files.getLastModifiedTime(file.index()).toInstant().isBefore(cutoff)) {
                    return -1;
                }
                size = Files.size(file.data()) + Files.size(file.index());
            } catch (NoSuchFileException gone) {
                size = 0;
            }
            blobs.remove(file);
            return size;
        } finally {
            removals.writeLock().unlock();
        }
    }

    /**
     * Repack: deletes the block file of a leaf that a blob file now holds (the caller verified it
     * there and synced it). Returns the bytes freed, or -1 when no blob file holds it or there is no
     * such block file.
     */
    long removeMovedLeaf(byte[] digest) throws IOException {
        if (blobs.locate(digest).isEmpty()) {
            return -1;
        }
        Path file = file(digest);
        try {
            long size = Files.size(file);
            Files.delete(file);
            pendingFiles.remove(file);
            pendingDirs.add(file.getParent());
            return size;
        } catch (NoSuchFileException gone) {
            return -1;
        }
    }

    /** True when a block file with this digest exists. */
    boolean hasFile(byte[] digest) {
        return Files.exists(file(digest));
    }

    private static void touch(Path file) throws IOException {
        try {
            Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
        } catch (NoSuchFileException removed) {
            // removed as corrupt since it was read: the caller's put writes it again or fails later
        }
    }

    /**
     * Saves what can be saved of every blob file whose index could not be loaded: the data file is
     * cut at chunk boundaries (where its leaves are), each piece hashed and kept as a block file
     * (content-addressed, so a damaged piece is merely unreferenced), made durable, and then the blob
     * file is deleted. Returns the roots (hex) so treated.
     */
    List<String> salvageUnreadable() throws IOException {
        List<String> salvaged = new ArrayList<>();
        for (String entry : blobs.unreadable()) {
            String hex = entry.substring(0, entry.indexOf(':'));
            Optional<Path> data = blobs.unreadableData(hex);
            if (data.isEmpty()) {
                continue;
            }
            try (java.io.InputStream in = Files.newInputStream(data.get())) {
                byte[] chunk = new byte[BlobFiles.CHUNK];
                int n;
                while ((n = in.readNBytes(chunk, 0, chunk.length)) > 0) {
                    write(UnixFs.sha256(java.util.Arrays.copyOf(chunk, n)), chunk, n, true);
                }
            } catch (NoSuchFileException gone) {
                // only the index was left: nothing to save
            }
            syncPending();
            blobs.removeUnreadable(hex);
            salvaged.add(hex);
        }
        return salvaged;
    }

    Optional<Long> size(Cid cid) throws IOException {
        requireSha256(cid);
        Optional<BlobFiles.Leaf> leaf = blobs.locate(cid.sha256Digest());
        if (leaf.isPresent()) {
            return Optional.of((long) leaf.get().length());
        }
        try {
            return Optional.of(Files.size(file(cid.sha256Digest())));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Forces every block written since the last call (files, then their directories) to disk. */
    void syncPending() throws IOException {
        blobs.syncPending();
        List<Path> files = new ArrayList<>(pendingFiles);
        force(files, false);
        files.forEach(pendingFiles::remove);
        List<Path> dirs = new ArrayList<>(pendingDirs);
        force(dirs, true);
        dirs.forEach(pendingDirs::remove);
    }

    /** Forces these blocks' files, their directories and the blocks directory to disk (missing files are skipped). */
    void syncBlocks(List<byte[]> digests) throws IOException {
        List<Path> files = new ArrayList<>(digests.size());
        for (byte[] digest : digests) {
            files.add(file(digest));
        }
        Set<Path> dirs = new java.util.HashSet<>();
        for (Path file : force(files, false)) {
            dirs.add(file.getParent());
        }
        force(new ArrayList<>(dirs), true);
        fsyncDirectory(blocks);
    }

    /**
     * Fsyncs the files (or the directories), {@link #SYNC_PARALLEL} at a time when there are threads for it: on a
     * virtual disk each fsync waits for the device far longer than it uses the CPU, so side by side
     * they take a fraction of the time. Returns the files that exist (missing ones are skipped).
     */
    private List<Path> force(List<Path> files, boolean directories) throws IOException {
        if (syncThreads == null || files.size() < 2 * SYNC_PARALLEL) {
            return forceEach(files, directories);
        }
        List<Future<List<Path>>> slices = new ArrayList<>(SYNC_PARALLEL);
        int per = (files.size() + SYNC_PARALLEL - 1) / SYNC_PARALLEL;
        for (int from = 0; from < files.size(); from += per) {
            List<Path> slice = files.subList(from, Math.min(files.size(), from + per));
            slices.add(syncThreads.submit(() -> forceEach(slice, directories)));
        }
        List<Path> synced = new ArrayList<>(files.size());
        IOException failure = null;
        for (Future<List<Path>> slice : slices) {
            try {
                synced.addAll(slice.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                slices.forEach(f -> f.cancel(true));
                throw new java.io.InterruptedIOException("interrupted while syncing blocks");
            } catch (ExecutionException e) {
                IOException cause = e.getCause() instanceof IOException io ? io
                        : new IpfsException(IpfsException.Kind.FAILED, "syncing blocks: " + e.getCause(), e.getCause());
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return synced;
    }

    private static List<Path> forceEach(List<Path> files, boolean directories) throws IOException {
        List<Path> synced = new ArrayList<>(files.size());
        for (Path file : files) {
            try {
                if (directories) {
                    fsyncDirectory(file);
                } else {
                    fsync(file);
                }
                synced.add(file);
            } catch (NoSuchFileException deletedBehindOurBack) {
                // removed by someone else since it was written: nothing to sync, and fsck reports it
            }
        }
        return synced;
    }

    private static void fsync(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try {
            fsync(dir);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            // some file systems refuse to open a directory for fsync; the rename is then all we have
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("win")) {
                throw e;
            }
        }
    }

    /** Writes a small file atomically and durably: temp file, fsync, rename, fsync of the directory. */
    static void writeAtomically(Path target, byte[] content) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(target.getParent());
    }

    private Path file(byte[] digest) {
        String hex = HEX.formatHex(digest);
        return blocks.resolve(hex.substring(0, 2)).resolve(hex);
    }

    private static void requireSha256(Cid cid) throws IpfsException {
        if (!cid.isSha256()) {
            throw new IpfsException(IpfsException.Kind.FAILED, "only sha2-256 blocks are supported: " + cid);
        }
    }
}
