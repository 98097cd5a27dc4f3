package io.mirrorball.ipfs.embedded;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.Hamt;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.UnixFs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

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
    private final DirectoryParams params;
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

    /** A directory node: a basic directory, or the root shard of a HAMT. */
    private record Dir(Cid cid, Loaded node) {
        boolean sharded() {
            return node.meta().type() == UnixFs.TYPE_HAMT_SHARD;
        }
    }

    @FunctionalInterface
    private interface Change {
        /** The new entry for a name (empty removes it), given the current one. */
        Optional<Entry> apply(Optional<Entry> current) throws IOException;
    }

    private Mfs(Blockstore blocks, RootLog log, DirectoryParams params) {
        this.blocks = blocks;
        this.log = log;
        this.params = params;
        this.root = log.root();
    }

    /**
     * Opens MFS in a node's directory: its commit log {@code mfs-log} (see {@link RootLog}).
     *
     * @param params when a directory that a mutation rewrites is a HAMT (as in Kubo's MFS)
     */
    static Mfs open(Blockstore blocks, Path dir, DirectoryParams params) throws IOException {
        return new Mfs(blocks, RootLog.open(dir.resolve("mfs-log"), dir.resolve("mfs-root"), blocks), params);
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

    /**
     * After gc: drops the decoded nodes kept in memory (a removed node must be read, and missed,
     * again) and checkpoints the commit log, so that its replay does not bring back removed blocks.
     */
    void afterCollection() throws IOException {
        writeLock.lock();
        try {
            nodes.invalidateAll();
            log.checkpointNow();
        } finally {
            writeLock.unlock();
        }
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
            Optional<DagPb.Link> link = find(dir.get(), name, path);
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
        List<DagPb.Link> links = entries(dir, path, new HashSet<>());
        List<IpfsNode.FileEntry> out = new ArrayList<>(links.size());
        for (DagPb.Link link : links) {
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
        Optional<Entry> current = find(node, name, path).map(link -> new Entry(link.cid(), link.size()));
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
        Set<Cid> shards = new HashSet<>();
        List<DagPb.Link> old = entries(node, path, shards);
        List<DagPb.Link> links = new ArrayList<>(old.size() + 1);
        for (DagPb.Link link : old) {
            if (!link.name().equals(name)) {
                links.add(link);
            }
        }
        next.ifPresent(e -> links.add(new DagPb.Link(name, e.cid(), e.tsize())));
        byte[] data = node.node().node().data();
        if (!node.sharded() && !UnixFs.isPlainDirectoryData(data)) {
            // a basic directory with mode or mtime: kept basic, with its Data
            byte[] block = UnixFs.directoryBlock(data, links);
            putBlock(block);
            return new Entry(UnixFs.cidOf(block), UnixFs.cumulativeSize(block));
        }
        UnixFs.Directory rewritten;
        try {
            rewritten = UnixFs.directory(links, params);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, path + ": " + e.getMessage(), e);
        }
        for (byte[] block : rewritten.blocks()) {
            // the shards that did not change are under the committed root already
            if (!shards.contains(UnixFs.cidOf(block))) {
                putBlock(block);
            }
        }
        return new Entry(rewritten.cid(), rewritten.cumulativeSize());
    }

    /** The entry named {@code name} of a directory: a link of a basic directory, or found through the shards. */
    private Optional<DagPb.Link> find(Dir dir, String name, String path) throws IOException {
        if (!dir.sharded()) {
            for (DagPb.Link link : dir.node().node().links()) {
                if (link.name().equals(name)) {
                    return Optional.of(link);
                }
            }
            return Optional.empty();
        }
        long hash = Hamt.murmur3x64_64(name.getBytes(StandardCharsets.UTF_8));
        Cid shardCid = dir.cid();
        Loaded shard = dir.node();
        int fanout = fanout(shardCid, shard, path);
        int bits = Hamt.bitsPerLevel(fanout);
        int padding = Hamt.padding(fanout);
        for (int consumed = 0; consumed + bits <= 64; consumed += bits) {
            int slot = Hamt.slot(hash, consumed, bits);
            DagPb.Link found = null;
            for (DagPb.Link link : shard.node().links()) {
                if (linkSlot(shardCid, link, padding) == slot) {
                    found = link;
                    break;
                }
            }
            if (found == null) {
                return Optional.empty();
            }
            if (found.name().length() > padding) {
                return found.name().substring(padding).equals(name)
                        ? Optional.of(new DagPb.Link(name, found.cid(), found.size())) : Optional.empty();
            }
            shardCid = found.cid();
            shard = childShard(shardCid, fanout, path);
        }
        throw new IpfsException(IpfsException.Kind.CORRUPT, path + ": HAMT " + dir.cid() + " is deeper than its hash");
    }

    /**
     * Every entry of a directory with its own name (a HAMT's entries in shard order).
     *
     * @param shards receives the CID of every shard of a HAMT
     */
    private List<DagPb.Link> entries(Dir dir, String path, Set<Cid> shards) throws IOException {
        if (!dir.sharded()) {
            return dir.node().node().links();
        }
        List<DagPb.Link> out = new ArrayList<>();
        int fanout = fanout(dir.cid(), dir.node(), path);
        collect(dir.cid(), dir.node(), fanout, Hamt.padding(fanout), path, shards, out);
        return out;
    }

    private void collect(Cid cid, Loaded shard, int fanout, int padding, String path, Set<Cid> shards,
                         List<DagPb.Link> out) throws IOException {
        shards.add(cid);
        for (DagPb.Link link : shard.node().links()) {
            linkSlot(cid, link, padding);
            if (link.name().length() == padding) {
                collect(link.cid(), childShard(link.cid(), fanout, path), fanout, padding, path, shards, out);
            } else {
                out.add(new DagPb.Link(link.name().substring(padding), link.cid(), link.size()));
            }
        }
    }

    /** The fanout of a shard that Kubo can read: murmur3 names, a power of 2 from 8 to 1024 slots. */
    private static int fanout(Cid cid, Loaded shard, String path) throws IpfsException {
        UnixFs.Meta meta = shard.meta();
        if (meta.hashType() != Hamt.MURMUR3_X64_64) {
            throw new IpfsException(IpfsException.Kind.FAILED, path + ": HAMT shard " + cid + " hashes names with 0x"
                    + Long.toHexString(meta.hashType()) + ", not murmur3 (0x22)");
        }
        long fanout = meta.fanout();
        if (fanout < 8 || fanout > 1024 || Long.bitCount(fanout) != 1) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, path + ": HAMT shard " + cid + " has fanout " + fanout);
        }
        return (int) fanout;
    }

    private Loaded childShard(Cid cid, int fanout, String path) throws IOException {
        if (cid.codec() != Cid.DAG_PB) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, path + ": HAMT child shard " + cid + " is not dag-pb");
        }
        Loaded child = load(cid);
        if (child.meta().type() != UnixFs.TYPE_HAMT_SHARD || fanout(cid, child, path) != fanout) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, path + ": HAMT child " + cid
                    + " is not a shard of fanout " + fanout);
        }
        return child;
    }

    private static int linkSlot(Cid shard, DagPb.Link link, int padding) throws IpfsException {
        try {
            return Hamt.linkSlot(link.name(), padding);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "HAMT shard " + shard + ": " + e.getMessage(), e);
        }
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
            public void finish(Cid root, long size) {
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
        if (!loaded.meta().isDirectory()) {
            return Optional.empty();
        }
        return Optional.of(new Dir(cid, loaded));
    }

    /** A dag-pb UnixFS node, from the cache or read (and verified) from the blockstore. */
    private Loaded load(Cid cid) throws IOException {
        Loaded cached = nodes.getIfPresent(cid);
        if (cached != null) {
            return cached;
        }
        byte[] block = blocks.get(cid);
        DagPb.Decoded node = DagPb.decode(cid, block);
        Loaded loaded = new Loaded(block.length, node, meta(cid, node));
        nodes.put(cid, loaded);
        return loaded;
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
