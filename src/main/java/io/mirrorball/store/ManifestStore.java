package io.mirrorball.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Manifests and indexes of local repositories: bytes in the blob layout, a revision link per
 * repository, and tags as {@code current/link} plus an {@code index} of every digest a tag held.
 */
public final class ManifestStore {
    private final IpfsNode node;
    private final MfsPaths paths;
    private final BlobStore blobs;
    /** Parsed manifests by digest: immutable content, so cached without expiry. */
    private final Cache<Digest, StoredManifest> parsed = Caffeine.newBuilder().maximumWeight(64L * 1024 * 1024)
            .weigher((Digest d, StoredManifest m) -> m.content().length + 256).build();

    ManifestStore(IpfsNode node, MfsPaths paths, BlobStore blobs) {
        this.node = node;
        this.paths = paths;
        this.blobs = blobs;
    }

    /** Publishes each manifest as it is stored (set once by the RegistryStore). */
    private ImagePublisher publisher;

    void publishWith(ImagePublisher publisher) {
        this.publisher = publisher;
    }

    /**
     * Result of a PUT. {@code subject} is the digest named by the manifest's subject field, or null;
     * {@code published} is the image's CID.
     */
    public record PutResult(Digest digest, Manifest manifest, Digest subject, Cid published) {
    }

    /**
     * Stores a manifest under a tag or digest after validating it: the digest of a PUT by digest,
     * the JSON and media type, and that every referenced blob and child manifest is in the repository.
     */
    public PutResult put(RepositoryName name, Reference reference, byte[] content, String contentType)
            throws IOException {
        Digest digest = Digest.ofBytes(content);
        if (reference.isDigest()) {
            Digest claimed = reference.digest();
            Digest actual = claimed.algorithm().equals("sha256") ? digest
                    : Digest.parse(claimed.algorithm() + ":" + java.util.HexFormat.of().formatHex(
                            claimed.newMessageDigest().digest(content)));
            if (!actual.equals(claimed)) {
                throw new OciException(OciErrorCode.DIGEST_INVALID, "manifest content is " + actual + ", not "
                        + claimed);
            }
        }
        Manifest manifest = Manifest.parse(content, contentType);
        for (Descriptor blob : manifest.blobs()) {
            if (!blobs.isLinked(name, blob.digest()) || blobs.stat(blob.digest()).isEmpty()) {
                throw new OciException(OciErrorCode.MANIFEST_BLOB_UNKNOWN, "blob " + blob.digest()
                        + " is not in " + name);
            }
        }
        for (Descriptor child : manifest.manifests()) {
            if (node.filesStat(paths.revisionLink(name, child.digest())).isEmpty()) {
                throw new OciException(OciErrorCode.MANIFEST_BLOB_UNKNOWN, "manifest " + child.digest()
                        + " is not in " + name);
            }
        }
        BlobInfo stored = blobs.putBytes(content, digest);
        StoredManifest storedManifest = new StoredManifest(digest, content, manifest, stored.cid());
        parsed.put(digest, storedManifest);
        writeLink(paths.revisionLink(name, digest), digest);
        // published before the tag moves: a failed publish leaves the tag where it was, and a retry succeeds
        Cid published = publisher == null ? null : publisher.publish(storedManifest).cid();
        if (reference.tag() != null) {
            writeLink(paths.tagIndexLink(name, reference.tag(), digest), digest);
            writeLink(paths.tagCurrentLink(name, reference.tag()), digest);
        }
        Digest subject = null;
        if (manifest.subject() != null) {
            subject = manifest.subject().digest();
            writeLink(paths.referrerLink(name, subject, digest), digest);
        }
        return new PutResult(digest, manifest, subject, published);
    }

    /** The digest a tag points at, or the digest itself if the repository holds that revision. */
    public Optional<Digest> resolve(RepositoryName name, Reference reference) throws IOException {
        if (reference.isDigest()) {
            return node.filesStat(paths.revisionLink(name, reference.digest())).isPresent()
                    ? Optional.of(reference.digest()) : Optional.empty();
        }
        return readLink(paths.tagCurrentLink(name, reference.tag()));
    }

    /** A manifest of the repository, or MANIFEST_UNKNOWN (NAME_UNKNOWN when the repository does not exist). */
    public StoredManifest get(RepositoryName name, Reference reference) throws IOException {
        Optional<Digest> digest = resolve(name, reference);
        if (digest.isEmpty()) {
            throw unknown(name, reference);
        }
        return read(digest.get()).orElseThrow(() -> unknown(name, reference));
    }

    /** Reads and verifies manifest bytes by digest from the blob layout. */
    public Optional<StoredManifest> read(Digest digest) throws IOException {
        StoredManifest cached = parsed.getIfPresent(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<BlobInfo> blob = blobs.stat(digest);
        if (blob.isEmpty()) {
            return Optional.empty();
        }
        byte[] content = blobs.readSmall(blob.get(), Manifest.MAX_BYTES);
        StoredManifest manifest = new StoredManifest(digest, content, Manifest.parse(content, null), blob.get().cid());
        parsed.put(digest, manifest);
        return Optional.of(manifest);
    }

    /**
     * Deletes a tag, or a revision by digest together with the tags that point at it.
     *
     * @return false when there was nothing to delete
     */
    public boolean delete(RepositoryName name, Reference reference) throws IOException {
        if (reference.tag() != null) {
            if (node.filesStat(paths.tag(name, reference.tag())).isEmpty()) {
                return false;
            }
            node.filesRm(paths.tag(name, reference.tag()));
            return true;
        }
        Digest digest = reference.digest();
        if (node.filesStat(paths.revisionLink(name, digest)).isEmpty()) {
            return false;
        }
        for (String tag : tags(name)) {
            Optional<Digest> current = readLink(paths.tagCurrentLink(name, tag));
            if (current.isPresent() && current.get().equals(digest)) {
                node.filesRm(paths.tag(name, tag));
            }
        }
        read(digest).ifPresent(m -> {
            if (m.manifest().subject() != null) {
                try {
                    node.filesRm(paths.referrerDirectory(name, m.manifest().subject().digest(), digest));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        node.filesRm(paths.revisionDirectory(name, digest));
        return true;
    }

    /** Tags of a repository, sorted; NAME_UNKNOWN when the repository does not exist. */
    public List<String> tags(RepositoryName name) throws IOException {
        if (node.filesStat(paths.repository(name)).isEmpty()) {
            throw new OciException(OciErrorCode.NAME_UNKNOWN, "repository " + name + " is not known");
        }
        try {
            List<String> tags = new ArrayList<>();
            for (IpfsNode.FileEntry e : node.filesLs(paths.tags(name))) {
                if (e.directory() && Reference.isTag(e.name())) {
                    tags.add(e.name());
                }
            }
            tags.sort(null);
            return tags;
        } catch (IpfsNotFoundException e) {
            return List.of();
        }
    }

    /** Manifests in the repository whose subject is {@code subject}, as index descriptors. */
    public List<Descriptor> referrers(RepositoryName name, Digest subject) throws IOException {
        List<Descriptor> result = new ArrayList<>();
        List<IpfsNode.FileEntry> entries;
        try {
            entries = node.filesLs(paths.referrers(name, subject) + "/" + subject.algorithm());
        } catch (IpfsNotFoundException e) {
            return result;
        }
        for (IpfsNode.FileEntry e : entries) {
            Digest referrer = Digest.parse(subject.algorithm() + ":" + e.name());
            Optional<StoredManifest> m = read(referrer);
            if (m.isEmpty() || node.filesStat(paths.revisionLink(name, referrer)).isEmpty()) {
                continue;
            }
            Manifest manifest = m.get().manifest();
            result.add(new Descriptor(manifest.mediaType(), referrer, m.get().content().length,
                    manifest.effectiveArtifactType(), manifest.annotations()));
        }
        return result;
    }

    private Optional<Digest> readLink(String path) throws IOException {
        try (InputStream in = node.filesRead(path, 0, 200)) {
            byte[] buffer = new byte[200];
            int n = StreamCopy.readFully(in, buffer);
            String text = new String(buffer, 0, n, StandardCharsets.UTF_8).trim();
            if (!Digest.isDigest(text)) {
                return Optional.empty();
            }
            return Optional.of(Digest.parse(text));
        } catch (IpfsNotFoundException e) {
            return Optional.empty();
        }
    }

    private void writeLink(String path, Digest digest) throws IOException {
        node.filesWrite(path, digest.toString().getBytes(StandardCharsets.UTF_8));
    }

    private OciException unknown(RepositoryName name, Reference reference) {
        return new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + reference + " is not in " + name);
    }
}
