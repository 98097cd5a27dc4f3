package io.mirrorball.upstream.retention;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.upstream.CacheListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger of pulled-through content: every blob and manifest the mirror put into the store, with its
 * size, origin and last use. It lives on local disk beside the uploads ({@code <uploads>/cache/}), not in
 * MFS: last use changes on every pull, and an MFS write per pull (a new root, on Kubo an RPC and a flush)
 * would cost more than the pull; the ledger is this instance's bookkeeping, and losing it only makes
 * content unknown to retention, which then never removes it.
 *
 * <p>Files: {@code ledger}, a snapshot written to a temporary file, forced and renamed over the old one;
 * and {@code journal}, to which every put and removal is appended as it happens (a line each), emptied
 * after each snapshot. Last use is kept in memory and reaches disk with the next {@link #flush} (the
 * gateway's housekeeping, and close): after kill -9 an item may look older than it is, never newer, and
 * a torn last journal line is skipped. Retention never relies on the ledger for safety: what local
 * repositories reference is computed from the store at every run.
 *
 * <p>One process holds the ledger ({@code .lock}); {@link #readOnly} reads it while a gateway runs.
 */
public final class CacheLedger implements CacheListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheLedger.class);
    private static final String HEADER = "mirrorball-cache-ledger 1";

    private final Path dir;
    private final Clock clock;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Map<Digest, Entry> entries = new ConcurrentHashMap<>();
    private final Object files = new Object();
    private Writer journal;

    /** Mutable only in its last use, which only moves forward. */
    private static final class Entry {
        final long size;
        final String upstream;
        final String repository;
        volatile long lastUse;

        Entry(long size, long lastUse, String upstream, String repository) {
            this.size = size;
            this.lastUse = lastUse;
            this.upstream = upstream;
            this.repository = repository;
        }

        void used(long at) {
            if (at > lastUse) {
                lastUse = at;
            }
        }
    }

    private CacheLedger(Path dir, Clock clock, FileChannel lockFile, FileLock lock) {
        this.dir = dir;
        this.clock = clock;
        this.lockFile = lockFile;
        this.lock = lock;
    }

    /** Opens (creating) the ledger in {@code dir} and holds it; {@link LedgerInUseException} if another process does. */
    public static CacheLedger open(Path dir, Clock clock) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockFile = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockFile.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            lockFile.close();
            throw e;
        }
        if (lock == null) {
            lockFile.close();
            throw new LedgerInUseException("the cache ledger " + dir + " is held by a running gateway");
        }
        CacheLedger ledger = new CacheLedger(dir, clock, lockFile, lock);
        try {
            ledger.load();
            ledger.flush(); // folds the journal into the snapshot, and opens the journal
        } catch (IOException | RuntimeException e) {
            ledger.close();
            throw e;
        }
        return ledger;
    }

    /** The items as last written to {@code dir} (by a running gateway, too); nothing is written. */
    public static List<CachedItem> readOnly(Path dir) throws IOException {
        CacheLedger ledger = new CacheLedger(dir, Clock.systemUTC(), null, null);
        ledger.load();
        return ledger.items();
    }

    @Override
    public void stored(String upstream, RepositoryName name, Digest digest, long size) {
        long now = clock.millis();
        Entry entry = new Entry(size, now, clean(upstream), name == null ? "" : name.value());
        entries.put(digest, entry);
        append("+\t" + line(digest, entry));
    }

    @Override
    public void served(Digest digest) {
        Entry entry = entries.get(digest);
        if (entry != null) {
            entry.used(clock.millis());
        }
    }

    /** Forgets an item that retention removed from the store. */
    public void removed(Digest digest) {
        if (entries.remove(digest) != null) {
            append("-\t" + digest);
        }
    }

    /** Bytes of every item (a sum over the items in memory; nothing is read from disk). */
    public long totalBytes() {
        long total = 0;
        for (Entry e : entries.values()) {
            total += e.size;
        }
        return total;
    }

    /** Every item, least recently used first (ties by digest). */
    public List<CachedItem> items() {
        List<CachedItem> items = new ArrayList<>(entries.size());
        entries.forEach((digest, e) -> items.add(new CachedItem(digest, e.size, Instant.ofEpochMilli(e.lastUse),
                e.upstream, e.repository)));
        items.sort(Comparator.comparing(CachedItem::lastUse).thenComparing(i -> i.digest().toString()));
        return items;
    }

    @Override
    public boolean holds(Digest digest) {
        return entries.containsKey(digest);
    }

    public Optional<CachedItem> item(Digest digest) {
        Entry e = entries.get(digest);
        return e == null ? Optional.empty()
                : Optional.of(new CachedItem(digest, e.size, Instant.ofEpochMilli(e.lastUse), e.upstream,
                e.repository));
    }

    /**
     * Writes every item with its last use as a new snapshot (temporary file, forced, renamed), then
     * empties the journal. Appends wait meanwhile, so none is lost between the two.
     */
    public void flush() throws IOException {
        if (lock == null) {
            throw new IllegalStateException("the ledger was read only");
        }
        synchronized (files) {
            Path tmp = dir.resolve("ledger.tmp");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                StringBuilder text = new StringBuilder(HEADER).append('\n');
                for (Map.Entry<Digest, Entry> e : entries.entrySet()) {
                    text.append(line(e.getKey(), e.getValue())).append('\n');
                    if (text.length() > 1 << 16) {
                        write(out, text);
                    }
                }
                write(out, text);
                out.force(true);
            }
            try {
                Files.move(tmp, dir.resolve("ledger"), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve("ledger"), StandardCopyOption.REPLACE_EXISTING);
            }
            if (journal != null) {
                journal.close();
            }
            journal = Files.newBufferedWriter(dir.resolve("journal"), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    private static void write(FileChannel out, StringBuilder text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
        text.setLength(0);
    }

    /** Appends one journal line and hands it to the OS (a process crash keeps it; no fsync). */
    private void append(String line) {
        synchronized (files) {
            if (journal == null) {
                return; // read only, or closed
            }
            try {
                journal.write(line);
                journal.write('\n');
                journal.flush();
            } catch (IOException e) {
                LOG.warn("cache ledger {}: appending to the journal: {}; the next snapshot keeps it", dir,
                        e.toString());
            }
        }
    }

    private void load() throws IOException {
        readLines(dir.resolve("ledger"), false);
        readLines(dir.resolve("journal"), true);
    }

    private void readLines(Path file, boolean journalLines) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (!journalLines && number == 1) {
                    if (!line.equals(HEADER)) {
                        throw new IOException("cache ledger " + file + ": not a ledger (first line " + line + ")");
                    }
                    continue;
                }
                if (!apply(line, journalLines)) {
                    LOG.warn("cache ledger {}: skipping line {} (torn by a crash?)", file, number);
                }
            }
        } catch (NoSuchFileException e) {
            // a new ledger
        }
    }

    private boolean apply(String line, boolean journalLine) {
        String[] fields = line.split("\t", -1);
        int offset = 0;
        if (journalLine) {
            if (fields.length == 2 && fields[0].equals("-") && Digest.isDigest(fields[1])) {
                entries.remove(Digest.parse(fields[1]));
                return true;
            }
            if (fields.length == 0 || !fields[0].equals("+")) {
                return false;
            }
            offset = 1;
        }
        if (fields.length != offset + 5 || !Digest.isDigest(fields[offset])) {
            return false;
        }
        try {
            long size = Long.parseLong(fields[offset + 1]);
            long lastUse = Long.parseLong(fields[offset + 2]);
            Entry entry = new Entry(size, lastUse, fields[offset + 3], fields[offset + 4]);
            Entry old = entries.put(Digest.parse(fields[offset]), entry);
            if (old != null) {
                entry.used(old.lastUse);
            }
            return size >= 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String line(Digest digest, Entry e) {
        return digest + "\t" + e.size + "\t" + e.lastUse + "\t" + e.upstream + "\t" + e.repository;
    }

    /** An upstream's name for a line: no tabs or line breaks. */
    private static String clean(String upstream) {
        return upstream == null ? "" : upstream.replaceAll("[\\s]", "_");
    }

    /** Writes a last snapshot and releases the ledger. */
    @Override
    public void close() throws IOException {
        try {
            if (lock != null && lock.isValid()) {
                flush();
            }
        } finally {
            synchronized (files) {
                if (journal != null) {
                    journal.close();
                    journal = null;
                }
            }
            if (lockFile != null) {
                lockFile.close();
            }
        }
    }
}
