package io.mirrorball.ipfs;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The mutable file system: a tree of immutable UnixFS directory blocks whose root CID is the only
 * mutable state. A mutation rewrites the directories on its path (copy on write) and commits: the
 * blocks it references that {@code add} wrote are fsynced, then one record with the new root and
 * the blocks the mutation created is appended to the commit log and fsynced ({@link RootLog}). A
 * crash at any moment leaves the last committed root, and every block under it, on disk.
 *
 * <p>Mutations are serialised by one lock. Reads take no lock: they start from the current root (a
 * volatile field, set only after the commit is durable) and walk immutable blocks, so they see one
 * committed state throughout. Directories use CIDv1, and their links are sorted by name with
 * cumulative Tsize, as in Kubo.
 */
final class Mfs {
    private final Blockstore blocks;
    private final RootLog log;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Blocks created by the mutation in progress (guarded by writeLock), journaled by its commit. */
    private final List<byte[]> created = new ArrayList<>();
    /** Decoded dag-pb nodes by CID: immutable, so never stale; bounded by an estimate of their size. */
    private final Cache<Cid, Loaded> nodes = Caffeine.newBuilder()
            .maximumWeight(32L * 1024 * 1024)
            .weigher((Cid cid, Loaded loaded) -> 128 + loaded.node().links().size() * 160)
            .build();
    private volatile Cid root;

    /** A dag-pb UnixFS node as read from the blockstore. */
    private record Loaded(int blockSize, DagPb.Decoded node, UnixFs.Meta meta) {
        long cumulativeSize() {
            return blockSize + node.linkedSize();
        }
    }

    /** An MFS entry as its parent links to it. */
    record Entry(Cid cid, long tsize) {
    }

    /** A directory node: its Data bytes (kept on rewrite) and its links. */
    private record Dir(byte[] data, List<DagPb.Link> links) {
        Optional<DagPb.Link> find(String name) {
            for (DagPb.Link link : links) {
                if (link.name().equals(name)) {
                    return Optional.of(link);
                }
            }
            return Optional.empty();
        }
    }

    @FunctionalInterface
    private interface Change {
        /** The new entry for a name (empty removes it), given the current one. */
        Optional<Entry> apply(Optional<Entry> current) throws IOException;
    }

    private Mfs(Blockstore blocks, RootLog log) {
        this.blocks = blocks;
        this.log = log;
        this.root = log.root();
    }

    /** Opens MFS in a node's directory: its commit log {@code mfs-log} (see {@link RootLog}). */
    static Mfs open(Blockstore blocks, Path dir) throws IOException {
        return new Mfs(blocks, RootLog.open(dir.resolve("mfs-log"), dir.resolve("mfs-root"), blocks));
    }

    void close() throws IOException {
        writeLock.lock();
        try {
            log.close();
        } finally {
            writeLock.unlock();
        }
    }

    Cid root() {
        return root;
    }

    // ---- reads (no lock) ----

    /** The entry at a path, or empty when nothing is there. */
    Optional<Entry> resolve(String path) throws IOException {
        return resolve(root, components(path), path);
    }

    /** Resolves names below a directory (used for MFS paths and /ipfs/cid/paths). */
    Optional<Entry> resolve(Cid start, List<String> names, String path) throws IOException {
        Cid current = start;
        long tsize = -1;
        for (String name : names) {
            if (current.codec() != Cid.DAG_PB) {
                return Optional.empty();
            }
            Optional<Dir> dir = directory(current, path);
            if (dir.isEmpty()) {
                return Optional.empty();
            }
            Optional<DagPb.Link> link = dir.get().find(name);
            if (link.isEmpty()) {
                return Optional.empty();
            }
            current = link.get().cid();
            tsize = link.get().size();
        }
        if (tsize < 0) {
            tsize = cumulativeSize(current);
        }
        return Optional.of(new Entry(current, tsize));
    }

    /** Stat of the node with this CID. */
    IpfsNode.FileStat stat(Cid cid) throws IOException {
        if (cid.codec() == Cid.RAW) {
            long size = rawSize(cid);
            return new IpfsNode.FileStat(cid, size, size, false);
        }
        Loaded loaded = load(cid);
        UnixFs.Meta meta = loaded.meta();
        long cumulative = loaded.cumulativeSize();
        if (meta.isDirectory()) {
            return new IpfsNode.FileStat(cid, 0, cumulative, true);
        }
        return new IpfsNode.FileStat(cid, meta.contentSize(), cumulative, false);
    }

    /** The entries of a directory (sorted by name), or the file itself when the path is a file. */
    List<IpfsNode.FileEntry> list(String path) throws IOException {
        List<String> names = components(path);
        Entry entry = resolve(root, names, path).orElseThrow(() -> new IpfsNotFoundException(
                "files/ls " + path + ": file does not exist"));
        IpfsNode.FileStat self = stat(entry.cid());
        if (!self.directory()) {
            String name = names.isEmpty() ? "" : names.get(names.size() - 1);
            return List.of(new IpfsNode.FileEntry(name, entry.cid(), self.size(), false));
        }
        Dir dir = directory(entry.cid(), path).orElseThrow();
        List<IpfsNode.FileEntry> out = new ArrayList<>(dir.links().size());
        for (DagPb.Link link : dir.links()) {
            IpfsNode.FileStat child = stat(link.cid());
            out.add(new IpfsNode.FileEntry(link.name(), link.cid(), child.size(), child.directory()));
        }
        out.sort((a, b) -> java.util.Arrays.compareUnsigned(a.name().getBytes(StandardCharsets.UTF_8),
                b.name().getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    /** The cumulative size of a node: its Tsize in a parent link. */
    long cumulativeSize(Cid cid) throws IOException {
        if (cid.codec() == Cid.RAW) {
            return rawSize(cid);
        }
        return load(cid).cumulativeSize();
    }

    /** Size of a raw block: from the file system, or by fetching it when it is not here. */
    private long rawSize(Cid cid) throws IOException {
        Optional<Long> size = blocks.size(cid);
        return size.isPresent() ? size.get() : blocks.get(cid).length;
    }

    // ---- mutations (one at a time, each committed) ----

    void mkdir(String path) throws IOException {
        List<String> names = components(path);
        if (names.isEmpty()) {
            return;
        }
        mutate(names, true, path, current -> {
            if (current.isPresent()) {
                if (!isDirectory(current.get().cid())) {
                    throw new IpfsException(IpfsException.Kind.FAILED, "files/mkdir " + path + ": file already exists");
                }
                return current;
            }
            return Optional.of(emptyDirectory());
        });
    }

    void write(String path, byte[] content) throws IOException {
        List<String> names = requireNotRoot(path, "files/write");
        mutate(names, true, path, current -> {
            if (current.isPresent() && isDirectory(current.get().cid())) {
                throw new IpfsException(IpfsException.Kind.FAILED, "files/write " + path + ": is a directory");
            }
            IpfsNode.Added added = Importer.importFile(journalingSink(), new ByteArrayInputStream(content));
            return Optional.of(new Entry(added.cid(), cumulativeSize(added.cid())));
        });
    }

    /** Places an existing node (whose root block is local) at a path that must not exist; creates parents. */
    void place(Entry source, String to, String action) throws IOException {
        List<String> names = requireNotRoot(to, action);
        mutate(names, true, to, current -> {
            if (current.isPresent()) {
                throw new IpfsException(IpfsException.Kind.FAILED, action + ": destination " + to + " already exists");
            }
            return Optional.of(source);
        });
    }

    void move(String from, String to) throws IOException {
        List<String> source = requireNotRoot(from, "files/mv");
        List<String> target = requireNotRoot(to, "files/mv");
        if (target.size() > source.size() && target.subList(0, source.size()).equals(source)) {
            throw new IpfsException(IpfsException.Kind.FAILED, "files/mv " + from + " " + to
                    + ": cannot move a directory into itself");
        }
        writeLock.lock();
        try {
            Cid start = root;
            Entry moved = resolve(start, source, from).orElseThrow(() -> new IpfsNotFoundException(
                    "files/mv " + from + ": file does not exist"));
            if (source.equals(target)) {
                throw new IpfsException(IpfsException.Kind.FAILED, "files/mv " + to + ": destination already exists");
            }
            List<String> parent = target.subList(0, target.size() - 1);
            Optional<Entry> parentEntry = resolve(start, parent, to);
            if (parentEntry.isEmpty() || !isDirectory(parentEntry.get().cid())) {
                throw new IpfsNotFoundException("files/mv " + to + ": parent directory does not exist");
            }
            Entry removed = rewrite(new Entry(start, -1), source, 0, false, from, current -> Optional.empty());
            Entry added = rewrite(removed, target, 0, false, to, current -> {
                if (current.isPresent()) {
                    throw new IpfsException(IpfsException.Kind.FAILED, "files/mv " + to + ": destination already exists");
                }
                return Optional.of(moved);
            });
            commit(added.cid());
        } finally {
            created.clear();
            writeLock.unlock();
        }
    }

    void remove(String path) throws IOException {
        List<String> names = requireNotRoot(path, "files/rm");
        writeLock.lock();
        try {
            Cid start = root;
            if (resolve(start, names, path).isEmpty()) {
                return;
            }
            Entry updated = rewrite(new Entry(start, -1), names, 0, false, path, current -> Optional.empty());
            commit(updated.cid());
        } finally {
            created.clear();
            writeLock.unlock();
        }
    }

    private void mutate(List<String> names, boolean parents, String path, Change change) throws IOException {
        writeLock.lock();
        try {
            Cid start = root;
            Entry updated = rewrite(new Entry(start, -1), names, 0, parents, path, change);
            commit(updated.cid());
        } finally {
            created.clear();
            writeLock.unlock();
        }
    }

    /** Rewrites directory {@code dir} with {@code change} applied to {@code names[i..]}; returns the new entry. */
    private Entry rewrite(Entry dir, List<String> names, int i, boolean parents, String path, Change change)
            throws IOException {
        Dir node = directory(dir.cid(), path).orElseThrow(() -> new IpfsException(IpfsException.Kind.FAILED,
                path + ": " + String.join("/", names.subList(0, i)) + " is not a directory"));
        String name = names.get(i);
        Optional<Entry> current = node.find(name).map(link -> new Entry(link.cid(), link.size()));
        Optional<Entry> next;
        if (i == names.size() - 1) {
            next = change.apply(current);
        } else {
            Entry child;
            if (current.isPresent()) {
                child = current.get();
            } else if (parents) {
                child = emptyDirectory();
            } else {
                throw new IpfsNotFoundException(path + ": " + String.join("/", names.subList(0, i + 1))
                        + " does not exist");
            }
            next = Optional.of(rewrite(child, names, i + 1, parents, path, change));
        }
        if (next.equals(current) && dir.tsize() >= 0) {
            return dir;
        }
        List<DagPb.Link> links = new ArrayList<>(node.links().size() + 1);
        for (DagPb.Link link : node.links()) {
            if (!link.name().equals(name)) {
                links.add(link);
            }
        }
        next.ifPresent(e -> links.add(new DagPb.Link(name, e.cid(), e.tsize())));
        byte[] block = UnixFs.directoryBlock(node.data(), links);
        putBlock(block);
        long tsize = block.length;
        for (DagPb.Link link : links) {
            tsize += link.size();
        }
        return new Entry(UnixFs.cidOf(block), tsize);
    }

    /**
     * Makes the new root durable and visible: the blocks it references that were written outside
     * this mutation (by {@code add}) are synced, then one log record holds the root and the blocks
     * this mutation created. Called with the write lock held.
     */
    private void commit(Cid newRoot) throws IOException {
        try {
            if (newRoot.equals(root)) {
                return;
            }
            blocks.syncPending();
            log.commit(newRoot, created);
            root = newRoot;
        } finally {
            created.clear();
        }
    }

    /** Stores a block created by the mutation in progress. */
    private void putBlock(byte[] block) throws IOException {
        blocks.putJournaled(block);
        created.add(block);
    }

    /** An importer sink for small files written by a mutation: their blocks are journaled too. */
    private Importer.BlockSink journalingSink() {
        return new Importer.BlockSink() {
            @Override
            public byte[] chunkBuffer() {
                return new byte[Importer.CHUNK];
            }

            @Override
            public void put(byte[] digest, byte[] block, int length) throws IOException {
                putBlock(length == block.length ? block : Arrays.copyOf(block, length));
            }

            @Override
            public void finish() {
            }
        };
    }

    private Entry emptyDirectory() throws IOException {
        byte[] empty = UnixFs.emptyDirectoryBlock();
        putBlock(empty);
        return new Entry(UnixFs.cidOf(empty), empty.length);
    }

    private boolean isDirectory(Cid cid) throws IOException {
        return cid.codec() == Cid.DAG_PB && load(cid).meta().isDirectory();
    }

    /** The directory with this CID, or empty when it is a file. */
    private Optional<Dir> directory(Cid cid, String path) throws IOException {
        if (cid.codec() != Cid.DAG_PB) {
            return Optional.empty();
        }
        Loaded loaded = load(cid);
        DagPb.Decoded node = loaded.node();
        UnixFs.Meta meta = loaded.meta();
        if (meta.type() == UnixFs.TYPE_HAMT_SHARD) {
            throw new IpfsException(IpfsException.Kind.FAILED, path + ": HAMT-sharded directory " + cid
                    + " is not supported by the embedded node");
        }
        if (!meta.isDirectory()) {
            return Optional.empty();
        }
        return Optional.of(new Dir(node.data(), node.links()));
    }

    /** A dag-pb UnixFS node, from the cache or read (and verified) from the blockstore. */
    private Loaded load(Cid cid) throws IOException {
        Loaded cached = nodes.getIfPresent(cid);
        if (cached != null) {
            return cached;
        }
        byte[] block = blocks.get(cid);
        DagPb.Decoded node = decode(cid, block);
        Loaded loaded = new Loaded(block.length, node, meta(cid, node));
        nodes.put(cid, loaded);
        return loaded;
    }

    static DagPb.Decoded decode(Cid cid, byte[] block) throws IpfsException {
        try {
            return DagPb.decode(block);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " is not dag-pb: " + e.getMessage(), e);
        }
    }

    static UnixFs.Meta meta(Cid cid, DagPb.Decoded node) throws IpfsException {
        try {
            return UnixFs.parse(node.data());
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, cid + " is not a UnixFS node: " + e.getMessage(), e);
        }
    }

    private static List<String> requireNotRoot(String path, String action) throws IpfsException {
        List<String> names = components(path);
        if (names.isEmpty()) {
            throw new IpfsException(IpfsException.Kind.FAILED, action + ": cannot operate on the root directory");
        }
        return names;
    }

    /** The names of an absolute path ({@code /a/b} gives a, b; {@code /} gives none). */
    static List<String> components(String path) throws IpfsException {
        if (path == null || !path.startsWith("/")) {
            throw new IpfsException(IpfsException.Kind.FAILED, "MFS paths are absolute: '" + path + "'");
        }
        List<String> names = new ArrayList<>();
        for (String name : path.split("/")) {
            if (name.isEmpty()) {
                continue;
            }
            if (name.equals(".") || name.equals("..")) {
                throw new IpfsException(IpfsException.Kind.FAILED, "MFS path with '" + name + "': " + path);
            }
            names.add(name);
        }
        return names;
    }
}
