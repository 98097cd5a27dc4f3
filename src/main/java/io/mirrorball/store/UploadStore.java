package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upload sessions spooled to a local directory ({@code storage.uploads.path}), one directory per
 * session holding {@code data} and {@code repository}. The state is the files themselves, so the
 * directory can be shared between instances; the running digest is kept in memory as a shortcut
 * and recomputed from {@code data} when missing. The blob enters the registry (its MFS path) only
 * when the upload is complete and its digest verified.
 *
 * <p>On a node that can add piece by piece (both nodes: see {@link IpfsNode#startAdd}), the
 * bytes are also added while they arrive, so that completing the upload only places the result;
 * without that, completing it would import the whole spooled file then. The running add is, like
 * the digest, a shortcut kept in memory: when the bytes it was given are not the data file's (a
 * chunk cut short, another instance, a restart) or it fails, it is dropped and the file is added
 * at completion as before. Blocks added for an upload whose digest turns out wrong are
 * unreferenced garbage, never reachable from the registry.
 */
public final class UploadStore {
    private static final Logger LOG = LoggerFactory.getLogger(UploadStore.class);
    private static final Pattern UUID_FORM = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final Path directory;
    private final Duration expireAfter;
    private final Clock clock;
    private final BlobStore blobs;
    private final Map<String, Hasher> hashers = new ConcurrentHashMap<>();
    /** Bounds the adds running alongside uploads: each holds a few 256 KiB chunk buffers. */
    private final Semaphore streamingAdds = new Semaphore(MAX_STREAMING_ADDS);
    private final AtomicLong completedWhileStreaming = new AtomicLong();
    static final int MAX_STREAMING_ADDS = 16;

    /** Running digest of a session: valid for {@code offset} bytes of its data file. */
    private static final class Hasher {
        final ReentrantLock lock = new ReentrantLock();
        MessageDigest digest = Digest.newSha256();
        long offset;
        /** The running add, valid when it holds exactly the data file's bytes; null when there is none. */
        IpfsNode.StreamingAdd add;
        /** The bytes given to {@link #add}. */
        long added;
        Semaphore permit;
    }

    UploadStore(Path directory, Duration expireAfter, Clock clock, BlobStore blobs) throws IOException {
        this.directory = directory;
        this.expireAfter = expireAfter;
        this.clock = clock;
        this.blobs = blobs;
        Files.createDirectories(directory);
    }

    /** Starts a session for a repository. */
    public UploadSession start(RepositoryName name) throws IOException {
        String uuid = UUID.randomUUID().toString();
        Path dir = directory.resolve(uuid);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("repository"), name.value(), StandardCharsets.UTF_8);
        Files.createFile(dir.resolve("data"));
        return new UploadSession(uuid, name, 0);
    }

    /** The session, which must belong to {@code name}; BLOB_UPLOAD_UNKNOWN otherwise. */
    public UploadSession get(RepositoryName name, String uuid) throws IOException {
        Path dir = sessionDirectory(uuid);
        try {
            String owner = Files.readString(dir.resolve("repository"), StandardCharsets.UTF_8);
            if (!owner.equals(name.value())) {
                throw unknown(uuid);
            }
            return new UploadSession(uuid, name, Files.size(dir.resolve("data")));
        } catch (NoSuchFileException e) {
            throw unknown(uuid);
        }
    }

    /**
     * Appends a chunk. {@code start}, when given (Content-Range), must equal the current size,
     * otherwise 416; {@code length}, when given, must match what arrives.
     */
    public UploadSession append(UploadSession session, InputStream chunk, Long start, Long length) throws IOException {
        Hasher hasher = hashers.computeIfAbsent(session.uuid(), k -> new Hasher());
        if (!hasher.lock.tryLock()) {
            throw new OciException(OciErrorCode.BLOB_UPLOAD_INVALID, "another request is writing upload "
                    + session.uuid());
        }
        try {
            Path data = sessionDirectory(session.uuid()).resolve("data");
            long size;
            try {
                size = Files.size(data);
            } catch (NoSuchFileException e) {
                throw unknown(session.uuid());
            }
            if (start != null && start != size) {
                throw new OciException(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, "chunk starts at " + start
                        + " but upload " + session.uuid() + " holds " + size + " bytes")
                        .withHeader("Range", rangeHeader(size))
                        .withHeader("Docker-Upload-UUID", session.uuid());
            }
            catchUp(hasher, data, size);
            startOrDropAdd(hasher, size);
            long written = 0;
            try (FileChannel channel = FileChannel.open(data, StandardOpenOption.WRITE)) {
                channel.position(size);
                OutputStream out = Channels.newOutputStream(channel);
                byte[] buffer = new byte[StreamCopy.BUFFER];
                int n;
                while ((n = chunk.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                    hasher.digest.update(buffer, 0, n);
                    written += n;
                    hasher.offset = size + written;
                    feedAdd(hasher, buffer, n);
                }
            } catch (IOException e) {
                // keep what was written whole: the client may resume from the reported Range
                hasher.offset = -1;
                throw e;
            }
            if (length != null && length != written) {
                truncate(data, size);
                hasher.offset = -1;
                dropAdd(hasher);
                throw new OciException(OciErrorCode.SIZE_INVALID, "chunk declared " + length + " bytes but carried "
                        + written);
            }
            return new UploadSession(session.uuid(), session.name(), size + written);
        } finally {
            if (hashers.get(session.uuid()) != hasher) {
                dropAdd(hasher); // cancelled, purged or closed while this request wrote
            }
            hasher.lock.unlock();
        }
    }

    /**
     * Completes an upload: the digest must match what was uploaded; the blob then enters IPFS, is
     * linked into the repository, and the session ends.
     */
    public BlobInfo complete(UploadSession session, Digest digest) throws IOException {
        Hasher hasher = hashers.computeIfAbsent(session.uuid(), k -> new Hasher());
        hasher.lock.lock();
        try {
            Path dir = sessionDirectory(session.uuid());
            Path data = dir.resolve("data");
            long size;
            try {
                size = Files.size(data);
            } catch (NoSuchFileException e) {
                throw unknown(session.uuid());
            }
            byte[] actual;
            if (digest.algorithm().equals("sha256")) {
                catchUp(hasher, data, size);
                actual = ((MessageDigest) cloneDigest(hasher.digest)).digest();
            } else {
                actual = hashFile(data, digest.newMessageDigest(), size);
            }
            if (!Arrays.equals(actual, digest.bytes())) {
                throw new OciException(OciErrorCode.DIGEST_INVALID, "upload " + session.uuid() + " of " + size
                        + " bytes does not match " + digest);
            }
            BlobInfo blob = null;
            if (hasher.add != null && hasher.added == size) {
                try {
                    blob = blobs.putAdded(digest, hasher.add.finish());
                    completedWhileStreaming.incrementAndGet();
                } catch (IOException e) {
                    LOG.warn("upload {}: the add that ran alongside it failed ({}); adding the file instead",
                            session.uuid(), e.toString());
                }
            }
            if (blob == null) {
                blob = blobs.putFile(data, digest);
            }
            blobs.link(session.name(), digest);
            delete(session.uuid());
            return blob;
        } finally {
            dropAdd(hasher);
            hasher.lock.unlock();
            hashers.remove(session.uuid());
        }
    }

    /** Cancels an upload and deletes its bytes. */
    public void cancel(UploadSession session) throws IOException {
        delete(session.uuid());
        forget(session.uuid());
    }

    /** Drops the adds running alongside uploads (the sessions stay: their files are their state). */
    void close() {
        for (String uuid : List.copyOf(hashers.keySet())) {
            forget(uuid);
        }
    }

    /** How many uploads were completed from the add that ran while their bytes arrived. */
    long completedWhileStreaming() {
        return completedWhileStreaming.get();
    }

    /** Adds that run alongside uploads now. */
    int streamingAdds() {
        return MAX_STREAMING_ADDS - streamingAdds.availablePermits();
    }

    /** A new upload (nothing spooled yet) gets a running add when the node has one and a permit is free. */
    private void startOrDropAdd(Hasher hasher, long size) {
        if (hasher.add != null && hasher.added != size) {
            dropAdd(hasher);
        }
        if (hasher.add != null || size != 0 || !streamingAdds.tryAcquire()) {
            return;
        }
        try {
            Optional<IpfsNode.StreamingAdd> add = blobs.startAdd();
            if (add.isPresent()) {
                hasher.add = add.get();
                hasher.added = 0;
                hasher.permit = streamingAdds;
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("no add alongside the upload: {}", e.toString());
        }
        streamingAdds.release();
    }

    private void feedAdd(Hasher hasher, byte[] buffer, int n) {
        if (hasher.add == null) {
            return;
        }
        try {
            hasher.add.write(buffer, 0, n);
            hasher.added += n;
        } catch (IOException | RuntimeException e) {
            LOG.warn("the add alongside an upload failed ({}); the file will be added when it completes", e.toString());
            dropAdd(hasher);
        }
    }

    private static void dropAdd(Hasher hasher) {
        if (hasher.add != null) {
            hasher.add.close();
            hasher.add = null;
        }
        if (hasher.permit != null) {
            hasher.permit.release();
            hasher.permit = null;
        }
    }

    /**
     * Forgets a session's running state. When a request is writing to it right now, that request
     * drops the running add as it ends (see {@link #append}), so that this never waits for a client.
     */
    private void forget(String uuid) {
        Hasher hasher = hashers.remove(uuid);
        if (hasher != null && hasher.lock.tryLock()) {
            try {
                dropAdd(hasher);
            } finally {
                hasher.lock.unlock();
            }
        }
    }

    /** How many upload sessions are open (one directory listing; expired ones count until purged). */
    public int openSessions() throws IOException {
        int open = 0;
        try (DirectoryStream<Path> sessions = Files.newDirectoryStream(directory)) {
            for (Path dir : sessions) {
                if (UUID_FORM.matcher(dir.getFileName().toString()).matches()) {
                    open++;
                }
            }
        }
        return open;
    }

    /** Deletes sessions untouched for longer than expire-after; returns how many. */
    public int purgeExpired() {
        Instant cutoff = clock.instant().minus(expireAfter);
        int purged = 0;
        try (DirectoryStream<Path> sessions = Files.newDirectoryStream(directory)) {
            for (Path dir : sessions) {
                String uuid = dir.getFileName().toString();
                if (!UUID_FORM.matcher(uuid).matches()) {
                    continue;
                }
                FileTime touched = lastTouched(dir);
                if (touched != null && touched.toInstant().isBefore(cutoff)) {
                    delete(uuid);
                    forget(uuid);
                    purged++;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("purging expired uploads in {}: {}", directory, e.toString());
        }
        if (purged > 0) {
            LOG.info("purged {} expired upload sessions", purged);
        }
        return purged;
    }

    /** The Range header value for a session holding {@code size} bytes. */
    public static String rangeHeader(long size) {
        return "0-" + Math.max(0, size - 1);
    }

    private static FileTime lastTouched(Path dir) throws IOException {
        try {
            FileTime data = Files.getLastModifiedTime(dir.resolve("data"));
            FileTime created = Files.getLastModifiedTime(dir);
            return data.compareTo(created) > 0 ? data : created;
        } catch (NoSuchFileException e) {
            return Files.exists(dir) ? Files.getLastModifiedTime(dir) : null;
        }
    }

    private Path sessionDirectory(String uuid) {
        if (uuid == null || !UUID_FORM.matcher(uuid).matches()) {
            throw unknown(uuid);
        }
        return directory.resolve(uuid);
    }

    private void delete(String uuid) throws IOException {
        Path dir = sessionDirectory(uuid);
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void catchUp(Hasher hasher, Path data, long size) throws IOException {
        if (hasher.offset == size) {
            return;
        }
        hasher.digest = Digest.newSha256();
        hashFile(data, hasher.digest, size);
        hasher.offset = size;
    }

    private static byte[] hashFile(Path data, MessageDigest md, long size) throws IOException {
        try (InputStream in = Files.newInputStream(data)) {
            byte[] buffer = new byte[StreamCopy.BUFFER];
            long remaining = size;
            while (remaining > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    break;
                }
                md.update(buffer, 0, n);
                remaining -= n;
            }
        }
        MessageDigest copy = (MessageDigest) cloneDigest(md);
        return copy.digest();
    }

    private static Object cloneDigest(MessageDigest md) {
        try {
            return md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
        }
    }

    private static void truncate(Path data, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    private static OciException unknown(String uuid) {
        return new OciException(OciErrorCode.BLOB_UPLOAD_UNKNOWN, "upload " + uuid + " is unknown or expired");
    }
}
