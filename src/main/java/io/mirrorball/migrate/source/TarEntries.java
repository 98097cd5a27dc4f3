package io.mirrorball.migrate.source;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import java.io.IOException;
import java.io.InputStream;
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
 * are followed ({@code docker save} links a repeated {@code layer.tar}). Safe for concurrent reads.
 */
final class TarEntries implements LayoutFiles {
    private static final int MAX_LINK_HOPS = 16;

    private final String describe;
    private final TarFile tar;
    private final Map<String, TarArchiveEntry> entries;

    private TarEntries(String describe, TarFile tar, Map<String, TarArchiveEntry> entries) {
        this.describe = describe;
        this.tar = tar;
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
        TarFile tar;
        try {
            tar = new TarFile(file);
        } catch (IOException | RuntimeException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, describe + " is not a readable tar archive"
                    + " (truncated or corrupt)", e);
        }
        try {
            Map<String, TarArchiveEntry> entries = new HashMap<>();
            for (TarArchiveEntry entry : tar.getEntries()) {
                if (entry.isFile() && entry.getDataOffset() + entry.getSize() > length) {
                    throw new MigrateException(FailureKind.INVALID_SOURCE, describe + " is truncated: "
                            + entry.getName() + " ends past the end of the file");
                }
                entries.put(normalize(entry.getName()), entry);
            }
            return new TarEntries(describe, tar, Map.copyOf(entries));
        } catch (RuntimeException e) {
            tar.close();
            throw e;
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
        return tar.getInputStream(resolve(path));
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
    public void close() throws IOException {
        tar.close();
    }
}
