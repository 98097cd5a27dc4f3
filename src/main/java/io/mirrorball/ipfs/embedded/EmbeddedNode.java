package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Car;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.Multibase;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.ipfs.UnixFsReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An IPFS node in a local directory, for running mirrorball with nothing else installed. Its CIDs
 * equal Kubo's for the same bytes and import parameters (see {@link Importer}, {@link UnixFs}).
 *
 * <pre>
 * dir/blobs/&lt;root hex&gt;.data, .idx       an imported file's leaves, written once, and their digests (see BlobFiles)
 * dir/blobs/.repacked-v1               present once no leaf of an older version's layout is left to repack
 * dir/blocks/&lt;2 hex&gt;/&lt;sha-256 hex&gt;   every other block, one file each (temp file + rename)
 * dir/mfs-log                          MFS commit log: root CID + new blocks per commit (see RootLog)
 * dir/pins                             recursively pinned roots, one CID per line (replaced atomically)
 * dir/identity                         this node's peer id
 * dir/repo.lock                        held while the node is open (one process at a time)
 * </pre>
 *
 * <p>Durability: blocks are written without per-block fsync. Before the MFS root or the pin set
 * changes, every block {@code add} or {@code block/put} wrote since the last commit is fsynced;
 * then an MFS commit appends one record (new root plus the directory blocks it created) to the
 * commit log and fsyncs it, and a pin change replaces the pin file (temp file, fsync, rename,
 * directory fsync). A crash therefore leaves the last committed root with all of its blocks.
 * Blocks that were only {@code add}ed are durable once something references them (MFS or a pin),
 * as in Kubo, where unreferenced blocks are garbage anyway.
 *
 * <p>Thread safety: any number of threads may call any method. MFS mutations are serialised;
 * reads, {@code add} and block operations run concurrently. MFS reads and writes HAMT-sharded
 * directories, and shards a directory that a mutation grows past Kubo's threshold, as Kubo's MFS
 * does ({@link #DIRECTORIES}). {@link #gc} and {@link #repack} exclude MFS mutations and pin
 * additions while they run. Not supported: blocks hashed with anything but sha2-256.
 */
public final class EmbeddedNode implements IpfsNode {
    /** When MFS directories are HAMT-sharded: Kubo's defaults, as Kubo's MFS shards them. */
    static final DirectoryParams DIRECTORIES = DirectoryParams.KUBO_DEFAULTS;
    /** Kubo refuses to {@code block/put} blocks over 1 MiB. */
    static final int MAX_PUT_BLOCK = 1024 * 1024;
    private static final String VERSION = "mirrorball-embedded/0.1.0";
    /** In {@code blobs/}: written once {@link #repack} found nothing left in the older layout (or the node started empty). */
    static final String REPACKED_MARKER = ".repacked-v1";
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedNode.class);

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Blockstore blocks;
    private final Mfs mfs;
    private final Pins pins;
    private final String peerId;
    private final ExecutorService writers;
    private volatile boolean closed;
    /**
     * MFS mutations and pin additions hold the read lock; {@link #gc} and {@link #repack} the write
     * lock, so no commit can link a block between gc's mark and its sweep. Fair: a waiting gc stops
     * new mutations from starving it.
     */
    private final ReentrantReadWriteLock collection = new ReentrantReadWriteLock(true);

    private EmbeddedNode(Path dir, FileChannel lockChannel, FileLock lock, Blockstore blocks, Mfs mfs, Pins pins,
            String peerId, ExecutorService threads) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.blocks = blocks;
        this.mfs = mfs;
        this.pins = pins;
        this.peerId = peerId;
        this.writers = threads;
    }

    /** Daemon threads named after the node (block writers and gateway fetches). */
    private static final class NamedThreads implements java.util.concurrent.ThreadFactory {
        private final String prefix;
        private final AtomicInteger count = new AtomicInteger();

        NamedThreads(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Thread newThread(Runnable r) {
            Thread thread = new Thread(r, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }

    /**
     * Opens (creating it when needed) the node stored in {@code dir}. One process at a time: a second
     * open of the same directory fails until the first is closed (or its process died).
     */
    public static EmbeddedNode open(Path dir) throws IOException {
        return open(dir, List.of(), Duration.ofSeconds(30));
    }

    /**
     * Opens the node in {@code dir}; blocks it does not have are fetched from these IPFS HTTP
     * trustless gateways (e.g. {@code https://trustless-gateway.link}), each verified against its CID
     * and then stored. {@code timeout} bounds each gateway request.
     */
    public static EmbeddedNode open(Path dir, List<URI> gateways, Duration timeout) throws IOException {
        return open(dir, gateways, timeout, DIRECTORIES);
    }

    /** Opens the node in {@code dir} with MFS directories sharded by {@code directories} (for tests). */
    static EmbeddedNode open(Path dir, DirectoryParams directories) throws IOException {
        return open(dir, List.of(), Duration.ofSeconds(30), directories);
    }

    private static EmbeddedNode open(Path dir, List<URI> gateways, Duration timeout, DirectoryParams directories)
            throws IOException {
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve("repo.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new io.mirrorball.ipfs.IpfsNodeInUseException("embedded IPFS node " + dir
                    + " is already open (repo.lock is held)");
        }
        ExecutorService threads = Executors.newCachedThreadPool(new NamedThreads(dir.getFileName() + "-embedded-ipfs"));
        try {
            boolean olderLayout = !Files.exists(dir.resolve("blobs").resolve(REPACKED_MARKER))
                    && holdsBlockFiles(dir.resolve("blocks"));
            GatewayFetcher fetcher = gateways.isEmpty() ? null : new GatewayFetcher(gateways, timeout, threads);
            Blockstore blocks = Blockstore.open(dir, fetcher, threads);
            Mfs mfs = Mfs.open(blocks, dir, directories);
            Pins pins = Pins.open(dir.resolve("pins"));
            if (olderLayout) {
                LOG.warn("embedded IPFS node {}: may hold files in the older layout (one file per 256 KiB block);"
                        + " they stay readable, but reads are faster after 'mirrorball repack --path {}' (run it with"
                        + " the gateway stopped)", dir, dir);
            } else if (!Files.exists(dir.resolve("blobs").resolve(REPACKED_MARKER))) {
                Blockstore.writeAtomically(dir.resolve("blobs").resolve(REPACKED_MARKER), new byte[0]);
            }
            return new EmbeddedNode(dir, channel, lock, blocks, mfs, pins, identity(dir.resolve("identity")), threads);
        } catch (IOException | RuntimeException e) {
            threads.shutdownNow();
            lock.release();
            channel.close();
            throw e;
        }
    }

    /** True when {@code blocks} has a block subdirectory: a node that was used before. */
    private static boolean holdsBlockFiles(Path blocks) throws IOException {
        if (!Files.isDirectory(blocks)) {
            return false;
        }
        try (java.util.stream.Stream<Path> entries = Files.list(blocks)) {
            return entries.anyMatch(entry -> entry.getFileName().toString().length() == 2);
        }
    }

    /** The directory this node keeps its data in. */
    public Path directory() {
        return dir;
    }

    @Override
    public Added add(InputStream content) throws IOException {
        ensureOpen();
        try (BlobFileWriter writer = blocks.newImport(writers)) {
            return Importer.importFile(writer, content);
        }
    }

    @Override
    public Optional<StreamingAdd> startAdd() throws IOException {
        ensureOpen();
        BlobFileWriter writer = blocks.newImport(writers);
        Importer importer = Importer.start(writer);
        return Optional.of(new StreamingAdd() {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                importer.write(bytes, offset, length);
            }

            @Override
            public Added finish() throws IOException {
                try {
                    return importer.finish();
                } finally {
                    close();
                }
            }

            @Override
            public void close() {
                writer.close();
            }
        });
    }

    @Override
    public InputStream cat(String cidPath, long offset, long length) throws IOException {
        ensureOpen();
        String path = cidPath.startsWith("/ipfs/") ? cidPath.substring("/ipfs/".length()) : cidPath;
        return read(resolveIpfsPath(path, "cat").cid(), offset, length, true);
    }

    /**
     * Without the check of every block against its CID when the file is a blob file (its bytes as
     * stored, read sequentially): for callers that check every byte against the blob's digest, so
     * that serving a blob costs one SHA-256 pass, not two.
     */
    @Override
    public InputStream catUnverified(String cidPath, long offset, long length) throws IOException {
        ensureOpen();
        String path = cidPath.startsWith("/ipfs/") ? cidPath.substring("/ipfs/".length()) : cidPath;
        return read(resolveIpfsPath(path, "cat").cid(), offset, length, false);
    }

    /** A file's bytes: from its blob file when it has one, otherwise block by block through its DAG. */
    private InputStream read(Cid cid, long offset, long length, boolean verify) throws IOException {
        if (cid.codec() == Cid.DAG_PB && cid.isSha256()) {
            Optional<BlobFiles.DataFile> file = blocks.blobs().byRoot(cid.sha256Digest());
            if (file.isPresent()) {
                return blocks.blobs().open(file.get(), offset, length, verify);
            }
        }
        return UnixFsReader.open(blocks::get, cid, offset, length);
    }

    @Override
    public Cid blockPut(byte[] block, long codec) throws IOException {
        ensureOpen();
        if (block.length > MAX_PUT_BLOCK) {
            throw new IpfsException(IpfsException.Kind.FAILED, "block/put: block of " + block.length
                    + " bytes is over 1 MiB");
        }
        if (codec == Cid.DAG_PB) {
            try {
                DagPb.decode(block);
            } catch (IllegalArgumentException e) {
                throw new IpfsException(IpfsException.Kind.FAILED, "block/put: not a dag-pb block: " + e.getMessage(), e);
            }
        } else if (codec != Cid.RAW) {
            throw new IpfsException(IpfsException.Kind.FAILED, "block/put: unsupported codec 0x" + Long.toHexString(codec));
        }
        return Cid.sha256(codec, blocks.put(block));
    }

    @Override
    public byte[] blockGet(Cid cid) throws IOException {
        ensureOpen();
        return blocks.get(cid);
    }

    @Override
    public Optional<Long> blockStat(Cid cid) throws IOException {
        ensureOpen();
        if (!cid.isSha256()) {
            return Optional.empty();
        }
        return blocks.size(cid);
    }

    @Override
    public void filesMkdir(String path) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            mfs.mkdir(path);
        } finally {
            collection.readLock().unlock();
        }
    }

    @Override
    public void filesWrite(String path, byte[] content) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            mfs.write(path, content);
        } finally {
            collection.readLock().unlock();
        }
    }

    @Override
    public InputStream filesRead(String path, long offset, long length) throws IOException {
        ensureOpen();
        Mfs.Entry entry = mfs.resolve(path).orElseThrow(() -> new IpfsNotFoundException(
                "files/read " + path + ": file does not exist"));
        return read(entry.cid(), offset, length, true);
    }

    @Override
    public Optional<FileStat> filesStat(String path) throws IOException {
        ensureOpen();
        Optional<Mfs.Entry> entry = mfs.resolve(path);
        return entry.isEmpty() ? Optional.empty() : Optional.of(mfs.stat(entry.get().cid()));
    }

    @Override
    public List<FileEntry> filesLs(String path) throws IOException {
        ensureOpen();
        return mfs.list(path);
    }

    @Override
    public void filesCp(String from, String to) throws IOException {
        ensureOpen();
        Mfs.Entry source;
        if (from.startsWith("/ipfs/")) {
            source = resolveIpfsPath(from.substring("/ipfs/".length()), "files/cp");
        } else {
            source = mfs.resolve(from).orElseThrow(() -> new IpfsNotFoundException(
                    "files/cp " + from + ": file does not exist"));
        }
        collection.readLock().lock();
        try {
            mfs.place(source, to, "files/cp");
        } finally {
            collection.readLock().unlock();
        }
    }

    @Override
    public void filesMv(String from, String to) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            mfs.move(from, to);
        } finally {
            collection.readLock().unlock();
        }
    }

    @Override
    public void filesRm(String path) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            mfs.remove(path);
        } finally {
            collection.readLock().unlock();
        }
    }

    @Override
    public Cid filesFlush(String path) throws IOException {
        ensureOpen();
        // every mutation is committed (synced) before it returns: nothing left to flush
        return mfs.resolve(path).orElseThrow(() -> new IpfsNotFoundException(
                "files/flush " + path + ": file does not exist")).cid();
    }

    @Override
    public void pinAdd(Cid cid) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            pinAddLocked(cid);
        } finally {
            collection.readLock().unlock();
        }
    }

    private void pinAddLocked(Cid cid) throws IOException {
        List<Cid> missing = new ArrayList<>();
        List<Cid> corrupt = new ArrayList<>();
        walk(cid, new HashSet<>(), true, (c, block) -> { }, missing::add, corrupt::add);
        if (!corrupt.isEmpty()) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "pin/add " + cid + ": " + corrupt.size()
                    + " corrupt block(s), first " + corrupt.get(0));
        }
        if (!missing.isEmpty()) {
            throw new IpfsNotFoundException("pin/add " + cid + ": " + missing.size() + " block(s) not found locally, first "
                    + missing.get(0));
        }
        blocks.syncPending();
        pins.add(cid);
    }

    @Override
    public void pinRm(Cid cid) throws IOException {
        ensureOpen();
        pins.remove(cid);
    }

    /** The recursively pinned roots. */
    public List<Cid> pins() {
        return pins.roots();
    }

    @Override
    public InputStream dagExport(Cid root) throws IOException {
        ensureOpen();
        if (blocks.size(root).isEmpty()) {
            throw new IpfsNotFoundException("dag/export " + root + ": block not found");
        }
        return Car.export(blocks::get, root);
    }

    /**
     * Imports a CAR v1 stream without pinning its roots (the {@link IpfsNode#dagImport} contract):
     * its blocks are unreferenced until the caller pins or links them, so gc with a grace longer than
     * that keeps them. gc waits while the stream is read.
     */
    @Override
    public List<Cid> dagImport(InputStream car) throws IOException {
        ensureOpen();
        collection.readLock().lock();
        try {
            return dagImportLocked(car);
        } finally {
            collection.readLock().unlock();
        }
    }

    private List<Cid> dagImportLocked(InputStream car) throws IOException {
        List<Cid> roots = Car.importCar(new BufferedInputStream(car, 256 * 1024) {
            @Override
            public void close() {
                // the caller owns the stream
            }
        }, Blockstore.MAX_BLOCK, blocks::put);
        return roots;
    }

    @Override
    public NodeId id() throws IOException {
        ensureOpen();
        return new NodeId(peerId, List.of());
    }

    @Override
    public String version() {
        return VERSION;
    }

    /**
     * Garbage collection: removes every blob file and block file that neither the MFS root nor a pin
     * reaches, unless it was written (or stored again) within {@code grace}. An {@code add} is
     * unreferenced until its result is linked into MFS or pinned: online callers pass a grace longer
     * than that takes (e.g. 10 minutes), offline callers may pass zero. MFS mutations and pin
     * additions wait while it runs; reads and adds do not. Blocks that the MFS commit log journals
     * are removed like any other when unreachable: replay at the next open only writes blocks and
     * takes its root from the last record, whose blocks are reachable, so it never needs them; and
     * gc ends with a checkpoint of the log, so that replay does not write them again.
     *
     * @throws IpfsException (CORRUPT) when a reachable dag-pb node is missing or corrupt, before
     *                       anything is removed: run fsck
     */
    public GcReport gc(Duration grace) throws IOException {
        ensureOpen();
        if (grace.isNegative()) {
            throw new IllegalArgumentException("gc: negative grace " + grace);
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(grace);
        collection.writeLock().lock();
        try {
            GcReport report = GarbageCollector.run(blocks, roots(), cutoff);
            mfs.afterCollection();
            return report;
        } finally {
            collection.writeLock().unlock();
        }
    }

    /**
     * Migrates files of the older layout (every leaf a block file) to blob files, then marks the
     * store as migrated ({@code blobs/.repacked-v1}). See {@link Repacker}: kill -9 at any point
     * loses nothing, and running it again finishes what a cut-short run left. MFS mutations and pin
     * additions wait while it runs.
     */
    public RepackReport repack() throws IOException {
        ensureOpen();
        collection.writeLock().lock();
        try {
            RepackReport report = Repacker.run(blocks, roots(), writers);
            Blockstore.writeAtomically(dir.resolve("blobs").resolve(REPACKED_MARKER), new byte[0]);
            return report;
        } finally {
            collection.writeLock().unlock();
        }
    }

    /** The MFS root, then every pinned root. */
    private List<Cid> roots() {
        List<Cid> roots = new ArrayList<>();
        roots.add(mfs.root());
        roots.addAll(pins.roots());
        return roots;
    }

    /** {@link #fsck(boolean)} without repairing. */
    public FsckReport fsck() throws IOException {
        return fsck(false);
    }

    /**
     * Checks the store. Every block file is read and hashed against the digest it is named by (as
     * Kubo's {@code ipfs repo verify} does), whether anything references it or not; then MFS is
     * walked from its root and from every pinned root for blocks that are missing or corrupt. With
     * {@code repair}, corrupt block files are deleted: what referenced them then finds them missing,
     * and the next put of the same block (a re-push, a pull-through, a fetch from a gateway) writes
     * them again. What MFS links to the lost blocks is the registry's to clean up (see the store's
     * fsck), since only it knows what the paths mean.
     */
    public FsckReport fsck(boolean repair) throws IOException {
        ensureOpen();
        Set<String> corruptFiles = new java.util.TreeSet<>();
        long[] files = new long[1];
        blocks.forEachFile(digest -> {
            files[0]++;
            if (!blocks.verify(digest).orElse(true)) {
                corruptFiles.add(java.util.HexFormat.of().formatHex(digest));
            }
        });
        List<String> damaged = blocks.blobs().unreadable();
        if (repair) {
            blocks.salvageUnreadable(); // before the walk: the leaves it saves are then found
        }
        for (BlobFiles.DataFile file : blocks.blobs().all()) {
            files[0] += file.leafCount();
            blocks.blobs().verifyLeaves(file, digest -> corruptFiles.add(java.util.HexFormat.of().formatHex(digest)));
        }
        Cid root = mfs.root();
        List<Cid> missing = new ArrayList<>();
        List<Cid> corrupt = new ArrayList<>();
        long[] totals = new long[2];
        Set<Cid> seen = new HashSet<>();
        List<Cid> starts = new ArrayList<>();
        starts.add(root);
        starts.addAll(pins.roots());
        for (Cid start : starts) {
            walkScanned(start, seen, corruptFiles, totals, missing, corrupt);
        }
        Set<String> reported = new HashSet<>();
        for (Cid cid : corrupt) {
            if (cid.isSha256()) {
                reported.add(java.util.HexFormat.of().formatHex(cid.sha256Digest()));
            }
        }
        for (String hex : corruptFiles) {
            if (!reported.contains(hex)) {
                corrupt.add(Cid.sha256(Cid.RAW, java.util.HexFormat.of().parseHex(hex))); // referenced by nothing
            }
        }
        List<Cid> removed = new ArrayList<>();
        if (repair) {
            for (Cid cid : corrupt) {
                if (cid.isSha256() && blocks.removeCorrupt(cid.sha256Digest())) {
                    removed.add(cid);
                }
            }
            blocks.syncPending();
        }
        return new FsckReport(root, totals[0], totals[1], missing, corrupt, files[0], removed, damaged);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        collection.writeLock().lock(); // a gc or repack under way finishes first
        try {
            mfs.close();
        } finally {
            collection.writeLock().unlock();
        }
        writers.shutdown();
        try {
            if (!writers.awaitTermination(30, TimeUnit.SECONDS)) {
                writers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            writers.shutdownNow();
        }
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }

    private void ensureOpen() throws IpfsException {
        if (closed) {
            throw new IpfsException(IpfsException.Kind.UNAVAILABLE, "embedded IPFS node " + dir + " is closed");
        }
    }

    private Mfs.Entry resolveIpfsPath(String path, String action) throws IOException {
        int slash = path.indexOf('/');
        String cidText = slash < 0 ? path : path.substring(0, slash);
        Cid cid;
        try {
            cid = Cid.parse(cidText);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, action + ": invalid CID '" + cidText + "'", e);
        }
        List<String> names = slash < 0 ? List.of() : Mfs.components(path.substring(slash));
        return mfs.resolve(cid, names, "/ipfs/" + path).orElseThrow(() -> new IpfsNotFoundException(
                action + " /ipfs/" + path + ": no such file or directory"));
    }

    private interface BlockVisitor {
        void visit(Cid cid, byte[] block) throws IOException;
    }

    private interface CidSink {
        void accept(Cid cid) throws IOException;
    }

    /**
     * Depth-first over the DAG under root, every block once; reports missing and corrupt blocks.
     * With {@code fetch}, missing blocks are first asked from the gateways.
     */
    private void walk(Cid root, Set<Cid> seen, boolean fetch, BlockVisitor visitor, CidSink missing, CidSink corrupt)
            throws IOException {
        Deque<Cid> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (!seen.add(cid)) {
                continue;
            }
            if (!cid.isSha256()) {
                corrupt.accept(cid);
                continue;
            }
            Optional<byte[]> block = blocks.read(cid);
            if (block.isEmpty() && fetch) {
                try {
                    block = Optional.of(blocks.get(cid));
                } catch (IpfsNotFoundException notThere) {
                    block = Optional.empty();
                } catch (IpfsException e) {
                    if (e.kind() != IpfsException.Kind.CORRUPT) {
                        throw e;
                    }
                    corrupt.accept(cid);
                    continue;
                }
            }
            if (block.isEmpty()) {
                missing.accept(cid);
                continue;
            }
            if (!MessageDigest.isEqual(UnixFs.sha256(block.get()), cid.sha256Digest())) {
                corrupt.accept(cid);
                continue;
            }
            if (cid.codec() == Cid.DAG_PB) {
                DagPb.Decoded node;
                try {
                    node = DagPb.decode(block.get());
                } catch (IllegalArgumentException e) {
                    corrupt.accept(cid);
                    continue;
                }
                for (DagPb.Link link : node.links()) {
                    stack.push(link.cid());
                }
            }
            visitor.visit(cid, block.get());
        }
    }

    /**
     * The fsck walk: depth-first over the DAG under root, every block once. Blocks whose files the
     * scan found corrupt are not read again; other raw blocks only need to exist; dag-pb blocks are
     * read (and checked again) for their links.
     */
    private void walkScanned(Cid root, Set<Cid> seen, Set<String> corruptFiles, long[] totals, List<Cid> missing,
            List<Cid> corrupt) throws IOException {
        Deque<Cid> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (!seen.add(cid)) {
                continue;
            }
            if (!cid.isSha256() || corruptFiles.contains(java.util.HexFormat.of().formatHex(cid.sha256Digest()))) {
                corrupt.add(cid);
                continue;
            }
            if (cid.codec() != Cid.DAG_PB) {
                Optional<Long> size = blocks.size(cid);
                if (size.isEmpty()) {
                    missing.add(cid);
                } else {
                    totals[0]++;
                    totals[1] += size.get();
                }
                continue;
            }
            Optional<byte[]> block = blocks.read(cid);
            if (block.isEmpty()) {
                missing.add(cid);
                continue;
            }
            DagPb.Decoded node;
            try {
                if (!MessageDigest.isEqual(UnixFs.sha256(block.get()), cid.sha256Digest())) {
                    corrupt.add(cid);
                    continue;
                }
                node = DagPb.decode(block.get());
            } catch (IllegalArgumentException e) {
                corrupt.add(cid);
                continue;
            }
            for (DagPb.Link link : node.links()) {
                stack.push(link.cid());
            }
            totals[0]++;
            totals[1] += block.get().length;
        }
    }

    private static String identity(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException first) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            byte[] multihash = new byte[2 + 4 + 32];
            multihash[0] = 0x00;              // identity multihash
            multihash[1] = 36;
            multihash[2] = 0x08;              // protobuf PublicKey{Type: Ed25519, Data: key}
            multihash[3] = 0x01;
            multihash[4] = 0x12;
            multihash[5] = 32;
            System.arraycopy(key, 0, multihash, 6, 32);
            String id = Multibase.encodeBase58(multihash);
            Blockstore.writeAtomically(file, (id + "\n").getBytes(StandardCharsets.US_ASCII));
            return id;
        }
    }
}
