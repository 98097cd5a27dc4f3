package io.mirrorball.upstream;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's folder for blobs on their way into IPFS ({@link MirrorPipe} files): {@code <parent>/<uuid>},
 * held with a file lock while the instance runs, since several instances may share the parent (it lives
 * under {@code storage.uploads.path}). At start, every folder in the parent whose lock is free belonged to
 * an instance that ended without cleaning up, and is deleted. At close the instance's own folder goes.
 */
final class MirrorSpool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorSpool.class);
    private static final String LOCK = ".lock";

    private final Path dir;
    private final FileChannel lockFile;
    private final FileLock lock;

    private MirrorSpool(Path dir, FileChannel lockFile, FileLock lock) {
        this.dir = dir;
        this.lockFile = lockFile;
        this.lock = lock;
    }

    /** Sweeps what dead instances left in {@code parent}, then makes and locks this instance's folder. */
    static MirrorSpool open(Path parent) throws IOException {
        Files.createDirectories(parent);
        sweep(parent);
        Path dir = parent.resolve(UUID.randomUUID().toString());
        Files.createDirectory(dir);
        FileChannel channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = channel.lock();
            return new MirrorSpool(dir, channel, lock);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    Path dir() {
        return dir;
    }

    /**
     * Deletes the folders that instances which are gone left directly in {@code parent}, as this class
     * names them (a UUID); other folders there (the spool parents of other upstreams) are left alone.
     */
    static void sweepInstanceFolders(Path parent) throws IOException {
        if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path entry : entries) {
                if (isUuid(entry.getFileName().toString()) && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)
                        && !isLive(entry)) {
                    LOG.info("deleting the mirror spool {} of an instance that is gone", entry);
                    delete(entry);
                }
            }
        }
    }

    private static boolean isUuid(String name) {
        try {
            return UUID.fromString(name).toString().equals(name);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void sweep(Path parent) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path entry : entries) {
                if (!Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(entry);
                    continue;
                }
                if (isLive(entry)) {
                    continue;
                }
                LOG.info("deleting the mirror spool {} of an instance that is gone", entry);
                delete(entry);
            }
        }
    }

    /** Whether another running instance (or another registry in this process) holds the folder's lock. */
    private static boolean isLive(Path dir) throws IOException {
        Path lockPath = dir.resolve(LOCK);
        if (!Files.exists(lockPath, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            delete(dir);
        } finally {
            try {
                lock.release();
            } finally {
                lockFile.close();
            }
        }
    }
}
