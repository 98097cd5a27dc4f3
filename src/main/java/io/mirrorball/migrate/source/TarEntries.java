package io.mirrorball.migrate.source;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * The files of an uncompressed tar, read in place: one pass over the headers (PAX and GNU long names
 * included) gives each name its entry, then each file is read at its offset. Symbolic and hard links
 * are followed ({@code docker save} links a repeated {@code layer.tar}). Safe for concurrent reads:
 * each file is read through its own channel ({@code TarFile}'s streams share one channel's position).
 */
final class TarEntries implements LayoutFiles {
    private static final int MAX_LINK_HOPS = 16;

    private final Path file;
    private final String describe;
    private final Map<String, TarArchiveEntry> entries;

    private TarEntries(Path file, String describe, Map<String, TarArchiveEntry> entries) {
        this.file = file;
        this.describe = describe;
        this.entries = entries;
    }

    /** Reads the headers; a gzip file, a truncated or corrupt tar is INVALID_SOURCE. */
    static TarEntries open(Path file) throws IOException {
        String describe = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new MigrateException(FailureKind.NOT_FOUND, "no archive file " + describe);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(2);
            if (magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, describe
                        + " is a compressed archive: gunzip it first");
            }
        }
        long length = Files.size(file);
        try (TarFile tar = new TarFile(file)) {
            Map<String, TarArchiveEntry> entries = new HashMap<>();
            for (TarArchiveEntry entry : tar.getEntries()) {
                if (entry.isFile() && entry.getDataOffset() + entry.getSize() > length) {
                    throw new MigrateException(FailureKind.INVALID_SOURCE, describe + " is truncated: "
                            + entry.getName() + " ends past the end of the file");
                }
                entries.put(normalize(entry.getName()), entry);
            }
            return new TarEntries(file, describe, Map.copyOf(entries));
        } catch (IOException | IllegalArgumentException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, describe + " is not a readable tar archive"
                    + " (truncated or corrupt)", e);
        }
    }

    @Override
    public String describe() {
        return describe;
    }

    boolean has(String path) {
        return entries.containsKey(normalize(path));
    }

    /** The size of the file at {@code path}, links followed. */
    long size(String path) throws IOException {
        return resolve(path).getSize();
    }

    @Override
    public InputStream open(String path) throws IOException {
        TarArchiveEntry entry = resolve(path);
        if (entry.isSparse()) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, path + " in " + describe + " is a sparse file");
        }
        SeekableByteChannel channel = Files.newByteChannel(file);
        try {
            channel.position(entry.getDataOffset());
            return new Bounded(Channels.newInputStream(channel), entry.getSize());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** At most {@code left} bytes of the wrapped stream; closing it closes the wrapped stream. */
    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long left) {
            super(in);
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = in.skip(Math.min(n, left));
            left -= skipped;
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), left);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }

    private TarArchiveEntry resolve(String path) throws IOException {
        String name = normalize(path);
        for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
            TarArchiveEntry entry = entries.get(name);
            if (entry == null) {
                throw new NoSuchFileException(path);
            }
            if (entry.isSymbolicLink()) {
                String target = entry.getLinkName();
                int slash = name.lastIndexOf('/');
                name = normalize(target.startsWith("/") ? target : (slash < 0 ? "" : name.substring(0, slash + 1)) + target);
            } else if (entry.isLink()) {
                name = normalize(entry.getLinkName());
            } else if (entry.isFile()) {
                return entry;
            } else {
                throw new MigrateException(FailureKind.INVALID_SOURCE, path + " in " + describe + " is not a file");
            }
        }
        throw new MigrateException(FailureKind.INVALID_SOURCE, path + " in " + describe + ": too many links");
    }

    /** {@code ./a//b/../c/} is {@code a/c}. */
    static String normalize(String name) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(part);
            }
        }
        return String.join("/", parts);
    }

    @Override
    public void close() {
        // every stream has its own channel
    }
}
