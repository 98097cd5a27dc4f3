package io.mirrorball.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.VerifiedRange;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs in IPFS. A blob enters only through {@code add} with the fixed import parameters, verified
 * against its digest while it streams, and is then placed at {@code blobs/sha256/<xx>/<hex>/data}
 * with {@code files/cp}. A repository sees a blob once it has a {@code _layers} link to it.
 */
public final class BlobStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlobStore.class);

    private final IpfsNode node;
    private final MfsPaths paths;
    /** Blob digest to where it is: immutable while the blob exists, so cached without expiry. */
    private final Cache<Digest, BlobInfo> located = Caffeine.newBuilder().maximumSize(200_000).build();
    private final OverlappedDigestCopy verifiedCopy = new OverlappedDigestCopy();
    /**
     * Online gc: every digest placed or linked since the current mark began. Writers record under the
     * read lock before they act; the sweep removes a blob under the write lock only if it was not
     * recorded, so a blob a push (or a pull-through, or a clone) wrote or linked after the mark listed
     * the references is never swept under it.
     */
    private final java.util.Set<Digest> touchedSinceMark = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.locks.ReentrantReadWriteLock sweepLock =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    /**
     * When each blob was last placed or linked here (System.nanoTime), for the grace of an online gc: a
     * blob uploaded before the gc whose manifest comes after it. Kept for a day at most.
     */
    private final Cache<Digest, Long> lastWritten = Caffeine.newBuilder().maximumSize(1_000_000)
            .expireAfterWrite(java.time.Duration.ofDays(1)).build();
    /** True from {@link #beginMark} to {@link #endMark}: only then are writes recorded. */
    private volatile boolean marking;

    BlobStore(IpfsNode node, MfsPaths paths) {
        this.node = node;
        this.paths = paths;
    }

    /** The blob if IPFS holds it, whichever repository it came from. */
    public Optional<BlobInfo> stat(Digest digest) throws IOException {
        BlobInfo cached = located.getIfPresent(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<IpfsNode.FileStat> stat = node.filesStat(paths.blobData(digest));
        if (stat.isEmpty() || stat.get().directory()) {
            return Optional.empty();
        }
        BlobInfo info = new BlobInfo(digest, stat.get().size(), stat.get().cid());
        located.put(digest, info);
        return Optional.of(info);
    }

    /** Every digest with a blob entry ({@code blobs/<alg>/<xx>/<hex>/data}), for gc and scrub. */
    java.util.List<Digest> digests() throws IOException {
        java.util.List<Digest> digests = new java.util.ArrayList<>();
        for (IpfsNode.FileEntry algorithm : list(paths.blobs())) {
            if (!algorithm.directory() || !algorithm.name().matches("[a-z0-9]+")) {
                continue;
            }
            for (IpfsNode.FileEntry prefix : list(paths.blobs() + "/" + algorithm.name())) {
                if (!prefix.directory() || !prefix.name().matches("[a-f0-9]{2}")) {
                    continue;
                }
                for (IpfsNode.FileEntry blob : list(paths.blobPrefix(algorithm.name(), prefix.name()))) {
                    String text = algorithm.name() + ":" + blob.name();
                    if (blob.directory() && Digest.isDigest(text) && blob.name().startsWith(prefix.name())) {
                        digests.add(Digest.parse(text));
                    }
                }
            }
        }
        return digests;
    }

    private java.util.List<IpfsNode.FileEntry> list(String dir) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (io.mirrorball.ipfs.IpfsNotFoundException e) {
            return java.util.List.of();
        }
    }

    /** The blob if it is linked into this repository and IPFS holds it. */
    public Optional<BlobInfo> stat(RepositoryName name, Digest digest) throws IOException {
        if (!isLinked(name, digest)) {
            return Optional.empty();
        }
        return stat(digest);
    }

    boolean isLinked(RepositoryName name, Digest digest) throws IOException {
        return node.filesStat(paths.layerLink(name, digest)).isPresent();
    }

    /** Makes a blob that IPFS holds visible in a repository. */
    public void link(RepositoryName name, Digest digest) throws IOException {
        sweepLock.readLock().lock();
        try {
            lastWritten.put(digest, System.nanoTime());
            if (marking) {
                touchedSinceMark.add(digest);
            }
            if (!isLinked(name, digest)) {
                node.filesWrite(paths.layerLink(name, digest), digest.toString().getBytes(StandardCharsets.UTF_8));
            }
        } finally {
            sweepLock.readLock().unlock();
        }
    }

    /** Starts a gc mark: from now on every blob placed or linked is recorded (see {@link #removeUnlessTouched}). */
    void beginMark() {
        sweepLock.writeLock().lock();
        try {
            touchedSinceMark.clear();
            marking = true;
        } finally {
            sweepLock.writeLock().unlock();
        }
    }

    /** Ends a gc's recording (after its sweep). */
    void endMark() {
        sweepLock.writeLock().lock();
        try {
            marking = false;
            touchedSinceMark.clear();
        } finally {
            sweepLock.writeLock().unlock();
        }
    }

    /**
     * The sweep of a gc: removes the blob (as {@link #remove}) unless it was placed or linked since
     * {@link #beginMark} or within {@code grace}; empty when it was, or when the store did not hold it.
     */
    Optional<BlobInfo> removeUnlessRecent(Digest digest, java.time.Duration grace) throws IOException {
        sweepLock.writeLock().lock();
        try {
            if (recentlyWritten(digest, grace)) {
                return Optional.empty();
            }
            return remove(digest);
        } finally {
            sweepLock.writeLock().unlock();
        }
    }

    /** True when the blob was placed or linked here since {@link #beginMark}, or within {@code grace}. */
    boolean recentlyWritten(Digest digest, java.time.Duration grace) {
        if (touchedSinceMark.contains(digest)) {
            return true;
        }
        Long written = lastWritten.getIfPresent(digest);
        return written != null && System.nanoTime() - written <= grace.toNanos();
    }
    /** Removes a blob from a repository (the bytes stay in IPFS for other repositories). */
    public boolean unlink(RepositoryName name, Digest digest) throws IOException {
        if (!isLinked(name, digest)) {
            return false;
        }
        node.filesRm(paths.layerDirectory(name, digest));
        return true;
    }

    /**
     * Streams the whole blob to {@code out}, verified against its digest; on a mismatch the final
     * bytes are withheld and an {@link IpfsException} of kind CORRUPT is thrown.
     */
    public void copyTo(BlobInfo blob, OutputStream out) throws IOException {
        try (InputStream in = node.catUnverified(blob.cid().toString(), 0, -1)) { // checked against the digest
            verifiedCopy.copyVerified(in, out, blob.digest(), blob.size(), "blob " + blob.digest());
        } catch (IpfsException e) {
            discardIfCorrupt(blob, e);
            throw e;
        }
    }

    /**
     * Streams part of a blob. A part cannot be checked against the blob's digest, so it is read
     * block by block and every block is checked against its CID in the blob's DAG.
     */
    public void copyRange(BlobInfo blob, long offset, long length, OutputStream out) throws IOException {
        try (InputStream in = VerifiedRange.open(node, blob.cid(), offset, length)) {
            StreamCopy.copy(in, out, length, "blob " + blob.digest() + " range " + offset + "+" + length);
        } catch (IpfsException e) {
            discardIfCorrupt(blob, e);
            throw e;
        }
    }

    /**
     * Adds a blob whose digest is known, verifying it while it streams. Bytes that do not match are
     * never placed in the blob layout. The bytes are imported even when the blob is stored already:
     * a stored entry that is not what the import of the verified bytes gave (another size or CID) is
     * replaced, and the import rewrites blocks the node lost or holds corrupt, so a push repairs.
     */
    public BlobInfo put(InputStream content, Digest expected) throws IOException {
        HashingInputStream hashing = new HashingInputStream(content, expected.newMessageDigest());
        IpfsNode.Added added = node.add(hashing);
        byte[] actual = hashing.digest();
        if (!Arrays.equals(actual, expected.bytes())) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "content of " + hashing.count()
                    + " bytes does not match " + expected);
        }
        return place(expected, added.cid(), hashing.count());
    }

    /**
     * Adds a blob from a spooled file whose digest the upload already computed while the bytes
     * arrived: it is not hashed a second time. Like {@link #put}, it replaces a wrong stored entry.
     */
    BlobInfo putFile(Path file, Digest digest) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            IpfsNode.Added added = node.add(in);
            return place(digest, added.cid(), added.size());
        }
    }

    /** Starts adding an upload's bytes while they arrive, when the node can (see {@link IpfsNode#startAdd}). */
    Optional<IpfsNode.StreamingAdd> startAdd() throws IOException {
        return node.startAdd();
    }

    /**
     * Places a blob that was added while it was uploaded, once the upload verified its digest; like
     * {@link #put}, it replaces a wrong stored entry.
     */
    BlobInfo putAdded(Digest digest, IpfsNode.Added added) throws IOException {
        return place(digest, added.cid(), added.size());
    }

    /** Adds small content (a manifest) and returns its location. */
    BlobInfo putBytes(byte[] content, Digest digest) throws IOException {
        return put(new java.io.ByteArrayInputStream(content), digest);
    }

    /**
     * Places a blob that an IPFS image lists under {@code cid}, once its bytes are checked: they are
     * read whole through the node (which fetches and checks every block against its CID, and keeps
     * them), streamed through a digest, and only a CID whose content matches {@code digest} is placed.
     * One that does not match is an {@link OciException} MANIFEST_INVALID, and nothing is placed.
     *
     * @param size      the size the image gives for it, or -1: more bytes than that are not read
     * @param image     the image being cloned, for the error message
     * @param abandoned checked between reads: true stops the check (another blob of the clone failed)
     */
    BlobInfo placeCloned(Digest digest, Cid cid, long expectedSize, String image, BooleanSupplier abandoned)
            throws IOException {
        MessageDigest md = digest.newMessageDigest();
        long size = 0;
        long limit = expectedSize < 0 ? -1 : expectedSize + 1; // one byte more tells a longer blob
        try (InputStream in = node.catUnverified(cid.toString(), 0, limit)) { // checked against the digest below
            byte[] buffer = new byte[StreamCopy.BUFFER];
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (abandoned.getAsBoolean()) {
                    throw new InterruptedIOException("clone of " + image + " abandoned while checking " + digest);
                }
                md.update(buffer, 0, n);
                size += n;
            }
        }
        if (!MessageDigest.isEqual(md.digest(), digest.bytes()) || (expectedSize >= 0 && size != expectedSize)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, image + " is not a valid image: it lists "
                    + digest + " as " + cid + ", whose " + (size > expectedSize && expectedSize >= 0 ? "more than "
                    + expectedSize : size) + " bytes do not match that digest" + (expectedSize >= 0 ? " and size "
                    + expectedSize : "") + "; nothing was cloned");
        }
        return place(digest, cid, size);
    }

    /** Reads a small blob (a manifest) whole, verified, refusing anything over {@code cap} bytes. */
    byte[] readSmall(BlobInfo blob, int cap) throws IOException {
        if (blob.size() > cap) {
            throw new OciException(OciErrorCode.MANIFEST_TOO_LARGE, blob.digest() + " is " + blob.size() + " bytes");
        }
        byte[] content = new byte[(int) blob.size()];
        try (InputStream in = node.cat(blob.cid().toString(), 0, -1)) {
            int n = StreamCopy.readFully(in, content);
            if (n != content.length || in.read() >= 0) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, blob.digest() + ": size differs from "
                        + blob.size());
            }
        } catch (IpfsException e) {
            discardIfCorrupt(blob, e);
            throw e;
        }
        if (!Arrays.equals(blob.digest().newMessageDigest().digest(content), blob.digest().bytes())) {
            IpfsException e = new IpfsException(IpfsException.Kind.CORRUPT, blob.digest() + ": content does not match");
            discardIfCorrupt(blob, e);
            throw e;
        }
        return content;
    }

    /**
     * After a read of the blob failed as CORRUPT (its bytes, or a block of its DAG, do not match),
     * drops its entry: it cannot be served, and the next push or pull-through puts it back.
     */
    private void discardIfCorrupt(BlobInfo blob, IpfsException e) {
        if (e.kind() == IpfsException.Kind.CORRUPT) {
            LOG.error("serving {} ({}): {}; dropping it until it is pushed or pulled again", blob.digest(),
                    blob.cid(), e.getMessage());
            discard(blob);
        }
    }

    /** Drops a blob file whose bytes do not match its digest, so that a push or a clone can replace it. */
    private void discard(BlobInfo blob) {
        located.invalidate(blob.digest());
        try {
            Optional<IpfsNode.FileStat> stat = node.filesStat(paths.blobData(blob.digest()));
            if (stat.isPresent() && stat.get().cid().equals(blob.cid())) {
                node.filesRm(paths.blobDirectory(blob.digest()));
            }
        } catch (IOException e) {
            LOG.warn("could not discard corrupt {}: {}", blob.digest(), e.toString());
        }
    }

    /**
     * Moves an entry of the right size but another CID out of the way of the verified import: most
     * likely the same bytes in another DAG, such as disco's import when disco shares the MFS root.
     * disco lists that CID in the disco.json of its images and keeps its blocks only through this
     * entry; dropping it would let the node's garbage collector delete them, and peers could no
     * longer clone disco's images. So it stays in the blob's directory, out of every path served.
     */
    private void displace(Digest digest, Cid old, Cid cid) throws IOException {
        String target = paths.blobData(digest);
        String kept = paths.displacedBlobData(digest, old);
        LOG.info("{} was stored as {}; replacing it with the verified {} and keeping the former at {}", digest,
                old, cid, kept);
        if (node.filesStat(kept).isPresent()) {
            node.filesRm(target); // kept already (the same DAG was placed again since)
            return;
        }
        try {
            node.filesMkdir(kept.substring(0, kept.lastIndexOf('/')));
            node.filesMv(target, kept);
        } catch (IpfsException e) {
            if (node.filesStat(kept).isEmpty()) {
                throw e;
            }
            // a concurrent put displaced it first; placing the verified import goes on as usual
        }
    }

    /**
     * Makes {@code cid} (verified {@code digest} content of {@code size} bytes) the blob's entry. An
     * equal entry is kept; one that differs (another size or CID: placed unverified by an older
     * version, or a clone of another DAG of the same bytes) is replaced by the verified one.
     */
    private BlobInfo place(Digest digest, Cid cid, long size) throws IOException {
        sweepLock.readLock().lock();
        try {
            lastWritten.put(digest, System.nanoTime());
            if (marking) {
                touchedSinceMark.add(digest);
            }
            return placeRecorded(digest, cid, size);
        } finally {
            sweepLock.readLock().unlock();
        }
    }

    private BlobInfo placeRecorded(Digest digest, Cid cid, long size) throws IOException {
        String target = paths.blobData(digest);
        BlobInfo info = new BlobInfo(digest, size, cid);
        Optional<IpfsNode.FileStat> existing = node.filesStat(target);
        if (existing.isPresent() && !existing.get().directory() && existing.get().cid().equals(cid)
                && existing.get().size() == size) {
            located.put(digest, info);
            return info;
        }
        if (existing.isPresent()) {
            located.invalidate(digest);
            if (!existing.get().directory() && existing.get().size() == size) {
                displace(digest, existing.get().cid(), cid);
            } else {
                LOG.warn("{} was stored as {} ({} bytes); replacing it with the verified {} ({} bytes)", digest,
                        existing.get().cid(), existing.get().size(), cid, size);
                node.filesRm(target);
            }
        }
        try {
            node.filesCp("/ipfs/" + cid, target);
        } catch (IpfsException e) {
            // a concurrent put of the same digest may have placed it first: every put places verified bytes
            Optional<IpfsNode.FileStat> raced = node.filesStat(target);
            if (raced.isEmpty() || raced.get().directory()) {
                throw e;
            }
            if (!raced.get().cid().equals(cid)) {
                LOG.info("{} was placed as {} by a concurrent put; keeping it (this import gave {})", digest,
                        raced.get().cid(), cid);
            }
            info = new BlobInfo(digest, raced.get().size(), raced.get().cid());
        }
        located.put(digest, info);
        return info;
    }

    /**
     * Removes a blob from the store (retention of pulled-through content; the caller made sure that no
     * repository references it): its entry under {@code blobs/}, and its pin if its CID was pinned, so
     * that the node can free the blocks (the embedded node at its next gc; Kubo at its own GC). A blob
     * directory that keeps a displaced DAG of the same bytes (see {@link #displace}) loses only its
     * {@code data}. Returns the blob removed, or empty when the store did not hold it.
     */
    public Optional<BlobInfo> remove(Digest digest) throws IOException {
        located.invalidate(digest);
        Optional<IpfsNode.FileStat> stat = node.filesStat(paths.blobData(digest));
        if (stat.isEmpty() || stat.get().directory()) {
            return Optional.empty();
        }
        BlobInfo removed = new BlobInfo(digest, stat.get().size(), stat.get().cid());
        boolean displaced = node.filesLs(paths.blobDirectory(digest)).stream()
                .anyMatch(e -> e.name().equals("displaced"));
        node.filesRm(displaced ? paths.blobData(digest) : paths.blobDirectory(digest));
        located.invalidate(digest);
        node.pinRm(removed.cid()); // a no-op when it is not pinned
        return Optional.of(removed);
    }

    /** Stops the threads that verify blobs while they are sent. */
    @Override
    public void close() {
        verifiedCopy.close();
    }
}
