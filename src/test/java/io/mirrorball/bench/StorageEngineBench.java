package io.mirrorball.bench;

import com.sun.nio.file.ExtendedOpenOption;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Storage engine candidates for the embedded node (issue 11), measured on this disk against
 * single-threaded SHA-256 of the same bytes in the same run:
 * <ol start="0">
 * <li>SHA-256 of the stream (the baseline);</li>
 * <li>one file per block as {@code Blockstore} does it (temp file, rename, fsync of every file and
 *     directory at the commit, 8 at a time), and the real {@link EmbeddedNode} add for reference;</li>
 * <li>a pack file: blocks appended to one file, an append-only index of 48-byte records, committed by
 *     fsync of the pack, then a commit mark appended to the index and its fsync;</li>
 * <li>filestore style: the blob written once as its own file (temp name, renamed at the commit) and
 *     56-byte index records pointing into it, committed as the pack.</li>
 * </ol>
 * Every write includes the SHA-256 of each 256 KiB block (the CID); 2 and 3 also run pipelined (a
 * writer thread writes while the caller hashes the next block, as {@code BlockWriter} does), and
 * pipelined with flush-behind (an fsync of the file started every 64 MiB on a third thread, so the
 * device writes while the importer hashes and the commit has little left to force). The read
 * side opens the store (loading the index), reads every block back in order verifying its SHA-256,
 * and serves random blocks (lookup, read, verify), then reads every block again with O_DIRECT, past the
 * page cache (a cold read from the device). Memory stays bounded: a 4 MiB random base buffer
 * and a few 256 KiB blocks, so it runs with -Xmx64m. Run by tests/bench/storage-engine.sh.
 * <pre>java -Xmx64m -cp ... io.mirrorball.bench.StorageEngineBench BYTES WORK_DIR</pre>
 */
public final class StorageEngineBench {
    private static final int CHUNK = 262_144;
    private static final int BUFFERS = 4;
    private static final int RANDOM_READS = 1000;
    private static final HexFormat HEX = HexFormat.of();
    /** Flush-behind: every this many bytes written, the writer starts an fsync of the file on another thread. */
    private static final long FLUSH_EVERY = 64L * 1024 * 1024;
    private static final String ENGINES = "embedded,files,pack,pack-p,pack-f,fs,fs-p,fs-f";
    private static final Block END = new Block(null, null, 0);

    private StorageEngineBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: StorageEngineBench BYTES WORK_DIR [ENGINES, default " + ENGINES + "]");
            System.exit(2);
        }
        long size = Long.parseLong(args[0]);
        Path work = Path.of(args[1]);
        String engines = args.length > 2 ? args[2] : ENGINES;
        Files.createDirectories(work);
        Source source = new Source(size);
        ExecutorService threads = Executors.newCachedThreadPool(new Named());
        try {
            sha256(source); // JIT warm-up
            double sha = sha256(source);
            System.out.printf("bytes %d (%d blocks of %d), max heap %d MiB%n", size, source.blocks(), CHUNK,
                    Runtime.getRuntime().maxMemory() >> 20);
            System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio 1.00%n", "(0) sha256 only", sha, size / sha / 1e6);
            // the many-file stores are deleted by the script after all runs: deleting 4096 files just
            // before creating new ones slows file creation on ext4 (see tests/bench/README.md)
            for (String name : engines.split(",")) {
                switch (name) {
                    case "embedded" -> embedded(source, work.resolve("embedded"), sha);
                    case "files" -> engine("(1) file per block", new FilePerBlock(work.resolve("files"), threads), source,
                            sha, false, threads);
                    case "pack" -> engine("(2) pack, 1 thread", new Pack(work.resolve("pack-1"), null), source, sha,
                            false, threads);
                    case "pack-p" -> engine("(2p) pack, pipelined", new Pack(work.resolve("pack-2"), null), source, sha,
                            true, threads);
                    case "pack-f" -> engine("(2f) pack, flush-behind", new Pack(work.resolve("pack-3"), threads),
                            source, sha, true, threads);
                    case "fs" -> engine("(3) filestore, 1 thread", new FileStore(work.resolve("fs-1"), null), source, sha,
                            false, threads);
                    case "fs-p" -> engine("(3p) filestore, pipelined", new FileStore(work.resolve("fs-2"), null), source,
                            sha, true, threads);
                    case "fs-f" -> engine("(3f) filestore, flush-behind", new FileStore(work.resolve("fs-3"),
                            threads), source, sha, true, threads);
                    default -> throw new IllegalArgumentException("unknown engine " + name + ", known: " + ENGINES);
                }
            }
            Path status = Path.of("/proc/self/status");
            if (Files.isReadable(status)) {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmHWM:")) {
                        System.out.println("peak RSS (" + line.replaceAll("\\s+", " ") + ")");
                    }
                }
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static void engine(String name, Store store, Source source, double sha, boolean pipelined,
            ExecutorService threads) throws Exception {
        List<byte[]> digests = new ArrayList<>((int) source.blocks());
        long start = System.nanoTime();
        if (pipelined) {
            importPipelined(store, source, digests, threads);
        } else {
            byte[] chunk = new byte[CHUNK];
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (long i = 0; i < source.blocks(); i++) {
                int n = source.fill(i, chunk);
                sha256.update(chunk, 0, n);
                byte[] digest = sha256.digest();
                digests.add(digest);
                store.put(digest, chunk, n);
            }
        }
        long written = System.nanoTime();
        store.commit();
        long committed = System.nanoTime();
        double write = (written - start) / 1e9;
        double total = (committed - start) / 1e9;
        long size = source.size();
        System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio %.2f   + commit %.2f s = %.2f s %6.0f MB/s  ratio %.2f%n",
                name + " write", write, size / write / 1e6, sha / write, (committed - written) / 1e9, total,
                size / total / 1e6, sha / total);

        long open = System.nanoTime();
        Reader reader = store.open();
        long opened = System.nanoTime();
        SplittableRandom random = new SplittableRandom(7);
        byte[] one = digests.get(random.nextInt(digests.size()));
        byte[] block = new byte[CHUNK];
        verify(one, block, reader.read(one, block));
        long first = System.nanoTime();
        System.out.printf("%-42s %7.2f ms (open: %.2f ms, of it loading the index)%n", name + " open + 1 block",
                (first - open) / 1e6, (opened - open) / 1e6);
        long readStart = System.nanoTime();
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        for (byte[] digest : digests) {
            int n = reader.read(digest, block);
            sha256.update(block, 0, n);
            if (!MessageDigest.isEqual(sha256.digest(), digest)) {
                throw new IllegalStateException("block " + HEX.formatHex(digest) + " read back wrong");
            }
        }
        double read = (System.nanoTime() - readStart) / 1e9;
        System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio %.2f   (verified, page cache warm)%n", name + " read all", read,
                size / read / 1e6, sha / read);
        long randomStart = System.nanoTime();
        for (int i = 0; i < RANDOM_READS; i++) {
            byte[] digest = digests.get(random.nextInt(digests.size()));
            verify(digest, block, reader.read(digest, block));
        }
        System.out.printf("%-42s %7.0f us per block (%d blocks: lookup, read, verify)%n", name + " random block",
                (System.nanoTime() - randomStart) / 1e3 / RANDOM_READS, RANDOM_READS);
        ByteBuffer aligned = ByteBuffer.allocateDirect(CHUNK + 4096).alignedSlice(4096);
        long directStart = System.nanoTime();
        for (byte[] digest : digests) {
            reader.readDirect(digest, aligned);
            sha256.update(aligned);
            if (!MessageDigest.isEqual(sha256.digest(), digest)) {
                throw new IllegalStateException("block " + HEX.formatHex(digest) + " read back wrong");
            }
        }
        double direct = (System.nanoTime() - directStart) / 1e9;
        System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio %.2f   (verified, O_DIRECT: from the device)%n",
                name + " read all, cold", direct, size / direct / 1e6, sha / direct);
        reader.close();
        store.close();
    }

    private static void verify(byte[] digest, byte[] block, int length) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(block, 0, length);
        if (!MessageDigest.isEqual(sha256.digest(), digest)) {
            throw new IllegalStateException("block " + HEX.formatHex(digest) + " read back wrong");
        }
    }

    private record Block(byte[] digest, byte[] bytes, int length) {
    }

    /** Hashes on the caller's thread while one writer thread stores the previous blocks (BUFFERS blocks in flight). */
    private static void importPipelined(Store store, Source source, List<byte[]> digests, ExecutorService threads)
            throws Exception {
        BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
        BlockingQueue<Block> queue = new ArrayBlockingQueue<>(BUFFERS + 1);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[CHUNK]);
        }
        Future<Void> writer = threads.submit(() -> {
            while (true) {
                Block block = queue.take();
                if (block == END) {
                    return null;
                }
                store.put(block.digest, block.bytes, block.length);
                free.add(block.bytes);
            }
        });
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        for (long i = 0; i < source.blocks(); i++) {
            byte[] chunk = free.take();
            int n = source.fill(i, chunk);
            sha256.update(chunk, 0, n);
            byte[] digest = sha256.digest();
            digests.add(digest);
            queue.put(new Block(digest, chunk, n));
        }
        queue.put(END);
        writer.get();
    }

    /** Today's EmbeddedNode: add (Importer, BlockWriter, one file per block), files/cp (fsyncs every block), cat. */
    private static void embedded(Source source, Path dir, double sha) throws Exception {
        long size = source.size();
        try (EmbeddedNode node = EmbeddedNode.open(dir)) {
            long start = System.nanoTime();
            IpfsNode.Added added = node.add(source.stream());
            long written = System.nanoTime();
            node.filesCp("/ipfs/" + added.cid(), "/bench");
            long committed = System.nanoTime();
            double write = (written - start) / 1e9;
            double total = (committed - start) / 1e9;
            System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio %.2f   + commit %.2f s = %.2f s %6.0f MB/s  ratio %.2f%n",
                    "(1r) EmbeddedNode add", write, size / write / 1e6, sha / write, (committed - written) / 1e9, total,
                    size / total / 1e6, sha / total);
            long readStart = System.nanoTime();
            byte[] buffer = new byte[CHUNK];
            long read = 0;
            try (InputStream in = node.cat("/ipfs/" + added.cid(), 0, -1)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    read += n;
                }
            }
            double seconds = (System.nanoTime() - readStart) / 1e9;
            if (read != size) {
                throw new IllegalStateException("cat returned " + read + " bytes, not " + size);
            }
            System.out.printf("%-42s %7.2f s %6.0f MB/s  ratio %.2f   (verified, page cache warm)%n", "(1r) EmbeddedNode cat",
                    seconds, size / seconds / 1e6, sha / seconds);
            SplittableRandom random = new SplittableRandom(7);
            long nanos = 0;
            for (int i = 0; i < RANDOM_READS; i++) {
                int n = source.fill(random.nextInt((int) source.blocks()), buffer);
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                sha256.update(buffer, 0, n);
                Cid cid = Cid.sha256(Cid.RAW, sha256.digest());
                long t = System.nanoTime();
                node.blockGet(cid);
                nanos += System.nanoTime() - t;
            }
            System.out.printf("%-42s %7.0f us per block (%d blocks: block/get, verified)%n", "(1r) EmbeddedNode random block",
                    nanos / 1e3 / RANDOM_READS, RANDOM_READS);
        }
    }

    private static double sha256(Source source) throws Exception {
        long start = System.nanoTime();
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        byte[] chunk = new byte[CHUNK];
        for (long i = 0; i < source.blocks(); i++) {
            sha256.update(chunk, 0, source.fill(i, chunk));
        }
        sha256.digest();
        return (System.nanoTime() - start) / 1e9;
    }

    /** A candidate store: puts blocks, commits them durably, and opens for reading (as after a restart). */
    private interface Store extends AutoCloseable {
        void put(byte[] digest, byte[] block, int length) throws IOException;

        void commit() throws Exception;

        Reader open() throws IOException;

        @Override
        void close() throws IOException;
    }

    private interface Reader extends AutoCloseable {
        /** Reads the block into {@code into}; returns its length. */
        int read(byte[] digest, byte[] into) throws IOException;

        /**
         * Reads the block with O_DIRECT (past the page cache, as on a cold cache) into {@code into}, a
         * 4096-aligned buffer of at least CHUNK bytes; returns its length.
         */
        int readDirect(byte[] digest, ByteBuffer into) throws IOException;

        @Override
        void close() throws IOException;
    }

    /** As Blockstore: blocks/xx/hex via a temp file and an atomic rename; the commit fsyncs files and directories, 8 at a time. */
    private static final class FilePerBlock implements Store {
        private final Path blocks;
        private final Path tmp;
        private final ExecutorService threads;
        private final List<Path> pending = new ArrayList<>();
        private final AtomicInteger counter = new AtomicInteger();

        FilePerBlock(Path blocks, ExecutorService threads) throws IOException {
            this.blocks = blocks;
            this.tmp = blocks.resolve(".tmp");
            this.threads = threads;
            Files.createDirectories(tmp);
        }

        private Path file(byte[] digest) {
            String hex = HEX.formatHex(digest);
            return blocks.resolve(hex.substring(0, 2)).resolve(hex);
        }

        @Override
        public void put(byte[] digest, byte[] block, int length) throws IOException {
            Path file = file(digest);
            if (file.toFile().length() == length) {
                return;
            }
            Files.createDirectories(file.getParent());
            Path temp = tmp.resolve("t-" + counter.incrementAndGet());
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                out.write(block, 0, length);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            pending.add(file);
        }

        @Override
        public void commit() throws Exception {
            List<Path> dirs = new ArrayList<>();
            try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(blocks)) {
                prefixes.forEach(dirs::add);
            }
            dirs.add(blocks);
            forceAll(pending, threads);
            forceAll(dirs, threads);
            pending.clear();
        }

        @Override
        public Reader open() {
            return new Reader() {
                @Override
                public int read(byte[] digest, byte[] into) throws IOException {
                    try (FileChannel channel = FileChannel.open(file(digest), StandardOpenOption.READ)) {
                        return readFully(channel, 0, into, (int) channel.size());
                    }
                }

                @Override
                public int readDirect(byte[] digest, ByteBuffer into) throws IOException {
                    try (FileChannel channel = FileChannel.open(file(digest), StandardOpenOption.READ,
                            ExtendedOpenOption.DIRECT)) {
                        return readDirectly(channel, 0, into, (int) channel.size());
                    }
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void close() {
        }
    }

    private static void forceAll(List<Path> paths, ExecutorService threads) throws Exception {
        List<Future<Void>> slices = new ArrayList<>();
        int per = (paths.size() + 7) / 8;
        for (int from = 0; from < paths.size(); from += per) {
            List<Path> slice = paths.subList(from, Math.min(paths.size(), from + per));
            slices.add(threads.submit(() -> {
                for (Path path : slice) {
                    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                        channel.force(true);
                    }
                }
                return null;
            }));
        }
        for (Future<Void> slice : slices) {
            slice.get();
        }
    }

    /**
     * Index file shared by the pack and the filestore: records of {@code digest[32], file long, offset
     * long, length int, padding int, crc32c int}, 60 bytes (file -1 and length -1: a commit mark;
     * records after the last mark are dropped on open). The formats planned in docs/storage-engine.md
     * are smaller; at 240 KiB per GiB the difference is not measurable.
     */
    private static final class Index implements AutoCloseable {
        static final int RECORD = 32 + 8 + 8 + 4 + 4 + 4;
        private final Path path;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);

        Index(Path path) throws IOException {
            this.path = path;
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }

        void add(byte[] digest, long file, long offset, int length) throws IOException {
            if (buffer.remaining() < RECORD) {
                flush();
            }
            int start = buffer.position();
            buffer.put(digest).putLong(file).putLong(offset).putInt(length).putInt(0);
            CRC32C crc = new CRC32C();
            crc.update(buffer.duplicate().position(start).limit(start + RECORD - 4));
            buffer.putInt(start + RECORD - 4, (int) crc.getValue());
            buffer.position(start + RECORD);
        }

        /** Appends a commit mark and fsyncs: every record before it refers to data forced before. */
        void commit() throws IOException {
            add(new byte[32], -1, -1, -1);
            flush();
            channel.force(false);
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        /** Loads the committed records: digest -> {file, offset, length}. */
        static Map<ByteBuffer, long[]> load(Path path) throws IOException {
            Map<ByteBuffer, long[]> committed = new HashMap<>();
            List<Object[]> uncommitted = new ArrayList<>();
            try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(RECORD * 1024).order(ByteOrder.LITTLE_ENDIAN);
                while (in.read(buffer) > 0 || buffer.position() > 0) {
                    buffer.flip();
                    if (buffer.remaining() < RECORD) {
                        break; // torn tail
                    }
                    while (buffer.remaining() >= RECORD) {
                        int start = buffer.position();
                        CRC32C crc = new CRC32C();
                        crc.update(buffer.duplicate().limit(start + RECORD - 4));
                        byte[] digest = new byte[32];
                        buffer.get(digest);
                        long file = buffer.getLong();
                        long offset = buffer.getLong();
                        int length = buffer.getInt();
                        buffer.getInt();
                        if (buffer.getInt() != (int) crc.getValue()) {
                            return committed; // torn or corrupt record: the log ends here
                        }
                        if (length == -1) {
                            for (Object[] record : uncommitted) {
                                committed.put((ByteBuffer) record[0], (long[]) record[1]);
                            }
                            uncommitted.clear();
                        } else {
                            uncommitted.add(new Object[] {ByteBuffer.wrap(digest), new long[] {file, offset, length}});
                        }
                    }
                    buffer.compact();
                }
            }
            return committed;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** Blocks appended to packs/0.pack; commit: fsync of the pack, then a commit mark and fsync of the index. */
    private static final class Pack implements Store {
        private final Path dir;
        private final FileChannel pack;
        private final Index index;
        private final FlushBehind flusher;
        private long end;

        Pack(Path dir, ExecutorService flushThreads) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir);
            this.pack = FileChannel.open(dir.resolve("0.pack"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            this.index = new Index(dir.resolve("index"));
            this.flusher = new FlushBehind(pack, flushThreads);
            fsyncDirectory(dir);
        }

        @Override
        public void put(byte[] digest, byte[] block, int length) throws IOException {
            writeFully(pack, end, block, length);
            index.add(digest, 0, end, length);
            end += length;
            flusher.written(end);
        }

        @Override
        public void commit() throws Exception {
            flusher.await();
            pack.force(false);
            index.commit();
        }

        @Override
        public Reader open() throws IOException {
            return locating(dir, Index.load(dir.resolve("index")), file -> dir.resolve(file + ".pack"));
        }

        @Override
        public void close() throws IOException {
            pack.close();
            index.close();
            delete(dir);
        }
    }

    /**
     * The blob as its own file (blobs/.tmp-N while written, blobs/N after the commit), index records
     * pointing into it; commit: fsync of the blob, rename, fsync of the directory, commit mark and fsync of the index.
     */
    private static final class FileStore implements Store {
        private final Path dir;
        private final Path temp;
        private final FileChannel blob;
        private final Index index;
        private final FlushBehind flusher;
        private long end;

        FileStore(Path dir, ExecutorService flushThreads) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir.resolve("blobs"));
            this.temp = dir.resolve("blobs/.tmp-1");
            this.blob = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.index = new Index(dir.resolve("index"));
            this.flusher = new FlushBehind(blob, flushThreads);
        }

        @Override
        public void put(byte[] digest, byte[] block, int length) throws IOException {
            writeFully(blob, end, block, length);
            index.add(digest, 1, end, length);
            end += length;
            flusher.written(end);
        }

        @Override
        public void commit() throws Exception {
            flusher.await();
            blob.force(false);
            Files.move(temp, dir.resolve("blobs/1"), StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(dir.resolve("blobs"));
            index.commit();
        }

        @Override
        public Reader open() throws IOException {
            return locating(dir, Index.load(dir.resolve("index")), file -> dir.resolve("blobs/" + file));
        }

        @Override
        public void close() throws IOException {
            blob.close();
            index.close();
            delete(dir);
        }
    }

    /**
     * Starts an fsync of the file on another thread every {@link #FLUSH_EVERY} bytes, when the last one
     * has finished: the device writes while the importer hashes, and the commit's fsync has little left.
     */
    private static final class FlushBehind {
        private final FileChannel channel;
        private final ExecutorService threads;
        private long flushed;
        private Future<?> running;

        FlushBehind(FileChannel channel, ExecutorService threads) {
            this.channel = channel;
            this.threads = threads;
        }

        void written(long end) {
            if (threads != null && end - flushed >= FLUSH_EVERY && (running == null || running.isDone())) {
                flushed = end;
                running = threads.submit(() -> {
                    channel.force(false);
                    return null;
                });
            }
        }

        void await() throws Exception {
            if (running != null) {
                running.get();
            }
        }
    }

    private interface FileName {
        Path of(long file);
    }

    /** A reader over an index: keeps one open channel per file. */
    private static Reader locating(Path dir, Map<ByteBuffer, long[]> index, FileName names) {
        Map<Long, FileChannel> open = new HashMap<>();
        Map<Long, FileChannel> direct = new HashMap<>();
        return new Reader() {
            private long[] where(byte[] digest) throws IOException {
                long[] where = index.get(ByteBuffer.wrap(digest));
                if (where == null) {
                    throw new IOException("block " + HEX.formatHex(digest) + " is not in the index of " + dir);
                }
                return where;
            }

            @Override
            public int read(byte[] digest, byte[] into) throws IOException {
                long[] where = where(digest);
                FileChannel channel = open.get(where[0]);
                if (channel == null) {
                    channel = FileChannel.open(names.of(where[0]), StandardOpenOption.READ);
                    open.put(where[0], channel);
                }
                return readFully(channel, where[1], into, (int) where[2]);
            }

            @Override
            public int readDirect(byte[] digest, ByteBuffer into) throws IOException {
                long[] where = where(digest);
                FileChannel channel = direct.get(where[0]);
                if (channel == null) {
                    channel = FileChannel.open(names.of(where[0]), StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
                    direct.put(where[0], channel);
                }
                return readDirectly(channel, where[1], into, (int) where[2]);
            }

            @Override
            public void close() throws IOException {
                for (FileChannel channel : open.values()) {
                    channel.close();
                }
                for (FileChannel channel : direct.values()) {
                    channel.close();
                }
            }
        };
    }

    /**
     * O_DIRECT read of {@code length} bytes at {@code position} (a multiple of 4096, as every block
     * offset here is: blocks are 256 KiB): reads whole 4096-byte sectors and leaves the block at the
     * start of {@code into}, limited to its length.
     */
    private static int readDirectly(FileChannel channel, long position, ByteBuffer into, int length) throws IOException {
        into.clear();
        into.limit((length + 4095) & ~4095);
        while (into.position() < length) {
            int n = channel.read(into, position + into.position());
            if (n < 0) {
                throw new IOException("short block at " + position);
            }
        }
        into.flip();
        into.limit(length);
        return length;
    }

    private static void writeFully(FileChannel channel, long position, byte[] block, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(block, 0, length);
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    private static int readFully(FileChannel channel, long position, byte[] into, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(into, 0, length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("short block at " + position);
            }
        }
        return length;
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** fsync of a directory (the rename of a new file is durable after it). */
    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /**
     * {@code size} pseudo-random bytes in 256 KiB blocks: block i is a slice of a 4 MiB random buffer at
     * an offset that depends on i, with its first 8 bytes set to i (no two blocks equal).
     */
    private static final class Source {
        private final byte[] base = new byte[4 * 1024 * 1024];
        private final long size;

        Source(long size) {
            this.size = size;
            new SplittableRandom(1).nextBytes(base);
        }

        long size() {
            return size;
        }

        long blocks() {
            return (size + CHUNK - 1) / CHUNK;
        }

        int fill(long index, byte[] chunk) {
            int n = (int) Math.min(CHUNK, size - index * CHUNK);
            int offset = (int) ((index * 40_503L) % (base.length - CHUNK));
            System.arraycopy(base, offset, chunk, 0, n);
            for (int b = 0; b < Math.min(8, n); b++) {
                chunk[b] = (byte) (index >>> (8 * b));
            }
            return n;
        }

        InputStream stream() {
            return new InputStream() {
                private final byte[] chunk = new byte[CHUNK];
                private long block;
                private int position;
                private int filled;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (position == filled) {
                        if (block >= blocks()) {
                            return -1;
                        }
                        filled = fill(block++, chunk);
                        position = 0;
                    }
                    int n = Math.min(len, filled - position);
                    System.arraycopy(chunk, position, b, off, n);
                    position += n;
                    return n;
                }
            };
        }
    }

    private static final class Named implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread thread = new Thread(r, "storage-bench-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
