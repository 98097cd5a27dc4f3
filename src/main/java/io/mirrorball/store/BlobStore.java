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
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs in IPFS. A blob enters only through {@code add} with the fixed import parameters, verified
 * against its digest while it streams, and is then placed at {@code blobs/sha256/<xx>/<hex>/data}
 * with {@code files/cp}. A repository sees a blob once it has a {@code _layers} link to it.
 */
public final class BlobStore {
    private static final Logger LOG = LoggerFactory.getLogger(BlobStore.class);

    private final IpfsNode node;
    private final MfsPaths paths;
    /** Blob digest to where it is: immutable while the blob exists, so cached without expiry. */
    private final Cache<Digest, BlobInfo> located = Caffeine.newBuilder().maximumSize(200_000).build();

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
        if (!isLinked(name, digest)) {
            node.filesWrite(paths.layerLink(name, digest), digest.toString().getBytes(StandardCharsets.UTF_8));
        }
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
        try (InputStream in = node.cat(blob.cid().toString(), 0, -1)) {
            StreamCopy.copyVerified(in, out, blob.digest(), blob.size(), "blob " + blob.digest());
        } catch (IpfsException e) {
            if (e.kind() == IpfsException.Kind.CORRUPT) {
                LOG.error("serving {} ({}): {}", blob.digest(), blob.cid(), e.getMessage());
                discard(blob);
            }
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
        }
    }

    /**
     * Adds a blob whose digest is known, verifying it while it streams. Bytes that do not match are
     * never placed in the blob layout.
     */
    public BlobInfo put(InputStream content, Digest expected) throws IOException {
        Optional<BlobInfo> existing = stat(expected);
        if (existing.isPresent()) {
            return existing.get();
        }
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
     * arrived: it is not hashed a second time.
     */
    BlobInfo putFile(Path file, Digest digest) throws IOException {
        Optional<BlobInfo> existing = stat(digest);
        if (existing.isPresent()) {
            return existing.get();
        }
        try (InputStream in = Files.newInputStream(file)) {
            IpfsNode.Added added = node.add(in);
            return place(digest, added.cid(), added.size());
        }
    }

    /** Starts adding an upload's bytes while they arrive, when the node can (see {@link IpfsNode#startAdd}). */
    Optional<IpfsNode.StreamingAdd> startAdd() throws IOException {
        return node.startAdd();
    }

    /** Places a blob that was added while it was uploaded, once the upload verified its digest. */
    BlobInfo putAdded(Digest digest, IpfsNode.Added added) throws IOException {
        Optional<BlobInfo> existing = stat(digest);
        if (existing.isPresent()) {
            return existing.get();
        }
        return place(digest, added.cid(), added.size());
    }

    /** Adds small content (a manifest) and returns its location. */
    BlobInfo putBytes(byte[] content, Digest digest) throws IOException {
        return put(new java.io.ByteArrayInputStream(content), digest);
    }

    /**
     * Places a blob that an IPFS image lists, without fetching it now: IPFS fetches its blocks when
     * it is first read, and every read is verified against the digest.
     */
    void placeCloned(Digest digest, Cid cid) throws IOException {
        String target = paths.blobData(digest);
        try {
            node.filesCp("/ipfs/" + cid, target);
        } catch (IpfsException e) {
            if (node.filesStat(target).isEmpty()) {
                throw e;
            }
        }
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
        }
        if (!Arrays.equals(blob.digest().newMessageDigest().digest(content), blob.digest().bytes())) {
            discard(blob);
            throw new IpfsException(IpfsException.Kind.CORRUPT, blob.digest() + ": content does not match");
        }
        return content;
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

    private BlobInfo place(Digest digest, Cid cid, long size) throws IOException {
        String target = paths.blobData(digest);
        try {
            node.filesCp("/ipfs/" + cid, target);
        } catch (IpfsException e) {
            // a concurrent put of the same digest may have placed it first
            Optional<IpfsNode.FileStat> stat = node.filesStat(target);
            if (stat.isEmpty()) {
                throw e;
            }
            if (!stat.get().cid().equals(cid)) {
                LOG.info("{} already stored as {}; keeping it (new import gave {})", digest, stat.get().cid(), cid);
            }
            BlobInfo info = new BlobInfo(digest, stat.get().size(), stat.get().cid());
            located.put(digest, info);
            return info;
        }
        BlobInfo info = new BlobInfo(digest, size, cid);
        located.put(digest, info);
        return info;
    }
}
