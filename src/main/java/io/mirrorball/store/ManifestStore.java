package io.mirrorball.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
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

    /** Which stored blobs came from an upstream and may join any repository (see {@link #mirroredContent}). */
    private volatile java.util.function.Predicate<Digest> mirrored = digest -> false;

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

    /** Puts and deletes so far: the web page reads its listing again when this moves. */
    private final java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();

    long writes() {
        return writes.get();
    }

    /** Something else changed which repositories or tags exist (a content-addressed delete, a gc sweep). */
    void changed() {
        writes.incrementAndGet();
    }

    /** Records every push (set once by the RegistryStore). */
    private PushHistory history;

    void recordPushesIn(PushHistory history) {
        this.history = history;
    }

    /**
     * Result of a PUT. {@code subject} is the digest named by the manifest's subject field, or null;
     * {@code published} is the image's CID.
     */
    public record PutResult(Digest digest, Manifest manifest, Digest subject, Cid published) {
    }

    /**
     * Stores a manifest under a tag or digest after validating it: the digest of a PUT by digest (its
     * algorithm, sha256 or sha512, is the one the manifest is stored and answered under; a PUT by tag
     * is sha256), the JSON and media type, that every referenced blob and child manifest is in the
     * repository with the size its descriptor states, and the subject's size when the subject is here.
     * A layer with {@code urls} (non-distributable) need not have been pushed.
     */
    public PutResult put(RepositoryName name, Reference reference, byte[] content, String contentType)
            throws IOException {
        Digest digest = Digest.ofBytes(content);
        if (reference.isDigest()) {
            Digest claimed = reference.digest();
            Digest actual = Digest.of(claimed.algorithm(), content);
            if (!actual.equals(claimed)) {
                throw new OciException(OciErrorCode.DIGEST_INVALID, "manifest content is " + actual + ", not "
                        + claimed);
            }
            digest = claimed;
        }
        Manifest manifest = Manifest.parse(content, contentType);
        verifyReferences(name, manifest);
        BlobInfo stored = blobs.putBytes(content, digest);
        StoredManifest storedManifest = new StoredManifest(digest, content, manifest, stored.cid());
        String remembered = manifest.mediaTypeToRemember();
        if (remembered != null) {
            node.filesWrite(paths.manifestMediaType(digest), remembered.getBytes(StandardCharsets.UTF_8));
            node.filesWrite(paths.revisionMediaType(name, digest), remembered.getBytes(StandardCharsets.UTF_8));
        }
        parsed.put(digest, storedManifest);
        writeLink(paths.revisionLink(name, digest), digest);
        // published before the tag moves: a failed publish leaves the tag where it was, and a retry succeeds
        Cid published = publisher == null ? null : publisher.publish(name, storedManifest).cid();
        if (reference.tag() != null) {
            writeLink(paths.tagIndexLink(name, reference.tag(), digest), digest);
            writeLink(paths.tagCurrentLink(name, reference.tag()), digest);
        }
        Digest subject = null;
        if (manifest.subject() != null) {
            subject = manifest.subject().digest();
            writeLink(paths.referrerLink(name, subject, digest), digest);
        }
        writes.incrementAndGet();
        if (history != null) {
            history.pushed(name, reference.tag(), digest, published);
        }
        return new PutResult(digest, manifest, subject, published);
    }

    /**
     * Tells which stored blobs the pull-through mirror fetched from an upstream. A manifest may name such a
     * blob without its repository holding it: a client pushing an image it pulled through this gateway asks
     * HEAD of each blob, which the mirror answers, and so uploads nothing. The blob is linked into the
     * repository with the manifest. A blob that was only pushed to another repository never joins this way.
     */
    public void mirroredContent(java.util.function.Predicate<Digest> mirroredContent) {
        this.mirrored = mirroredContent;
    }

    /** Every descriptor of the manifest names content of this repository, with the size it states. */
    private void verifyReferences(RepositoryName name, Manifest manifest) throws IOException {
        List<Descriptor> descriptors = manifest.blobs();
        List<Digest> toLink = new ArrayList<>();
        for (int i = 0; i < descriptors.size(); i++) {
            Descriptor blob = descriptors.get(i);
            String what = manifest.config() != null && i == 0 ? "config" : "layers[" + (manifest.config() != null
                    ? i - 1 : i) + "]";
            Optional<BlobInfo> info = blobs.isLinked(name, blob.digest()) ? blobs.stat(blob.digest()) : Optional.empty();
            if (info.isEmpty() && mirrored.test(blob.digest())) {
                info = blobs.stat(blob.digest());
                info.ifPresent(found -> toLink.add(found.digest()));
            }
            if (info.isEmpty()) {
                if (blob.isForeign() && i > 0) {
                    continue; // a non-distributable layer: clients fetch it from its urls
                }
                throw new OciException(OciErrorCode.MANIFEST_BLOB_UNKNOWN, what + ": blob " + blob.digest()
                        + " is not in " + name);
            }
            requireSize(what, blob, info.get().size());
        }
        List<Descriptor> children = manifest.manifests();
        for (int i = 0; i < children.size(); i++) {
            Descriptor child = children.get(i);
            Optional<StoredManifest> stored = node.filesStat(paths.revisionLink(name, child.digest())).isPresent()
                    ? read(child.digest()) : Optional.empty();
            if (stored.isEmpty()) {
                throw new OciException(OciErrorCode.MANIFEST_BLOB_UNKNOWN, "manifests[" + i + "]: manifest "
                        + child.digest() + " is not in " + name);
            }
            requireSize("manifests[" + i + "]", child, stored.get().content().length);
        }
        Descriptor subject = manifest.subject();
        if (subject != null && node.filesStat(paths.revisionLink(name, subject.digest())).isPresent()) {
            // the subject need not exist yet; when it does, its descriptor must describe it
            Optional<StoredManifest> stored = read(subject.digest());
            if (stored.isPresent()) {
                requireSize("subject", subject, stored.get().content().length);
            }
        }
        for (Digest digest : toLink) {
            blobs.link(name, digest);
        }
    }

    private static void requireSize(String what, Descriptor descriptor, long actual) {
        if (descriptor.size() != actual) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, what + ": descriptor of " + descriptor.digest()
                    + " says " + descriptor.size() + " bytes, but it has " + actual);
        }
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
        StoredManifest manifest = read(digest.get()).orElseThrow(() -> unknown(name, reference));
        if (!manifest.manifest().mediaTypeDeclared()) {
            // a cloned image carries the pushed media type in its revision directory, not in the blob layout
            Optional<String> remembered = readMediaType(paths.revisionMediaType(name, digest.get()));
            if (remembered.isPresent() && !remembered.get().equals(manifest.mediaType())) {
                return new StoredManifest(manifest.digest(), manifest.content(),
                        Manifest.parse(manifest.content(), remembered.get()), manifest.cid());
            }
        }
        return manifest;
    }

    /**
     * Reads an image configuration (or another small blob) whole, verified against its digest; empty when
     * the store does not hold it, MANIFEST_TOO_LARGE over {@code cap} bytes.
     */
    public Optional<byte[]> readSmallBlob(Digest digest, int cap) throws IOException {
        Optional<BlobInfo> blob = blobs.stat(digest);
        return blob.isEmpty() ? Optional.empty() : Optional.of(blobs.readSmall(blob.get(), cap));
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
        Manifest parsedManifest = Manifest.parse(content, null);
        if (!parsedManifest.mediaTypeDeclared()) {
            Optional<String> remembered = readMediaType(paths.manifestMediaType(digest));
            if (remembered.isPresent()) {
                parsedManifest = Manifest.parse(content, remembered.get());
            }
        }
        StoredManifest manifest = new StoredManifest(digest, content, parsedManifest, blob.get().cid());
        parsed.put(digest, manifest);
        return Optional.of(manifest);
    }

    /**
     * Deletes a tag, or a revision by digest together with the tags that point at it.
     *
     * @return false when there was nothing to delete
     */
    public boolean delete(RepositoryName name, Reference reference) throws IOException {
        writes.incrementAndGet();
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
        List<Digest> found = new ArrayList<>();
        for (String algorithm : Digest.ALGORITHMS) {
            try {
                for (IpfsNode.FileEntry e : node.filesLs(paths.referrers(name, subject) + "/" + algorithm)) {
                    if (Digest.isDigest(algorithm + ":" + e.name())) {
                        found.add(Digest.parse(algorithm + ":" + e.name()));
                    }
                }
            } catch (IpfsNotFoundException e) {
                // no referrer with digests of this algorithm
            }
        }
        for (Digest referrer : found) {
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

    /** A remembered media type (see {@link Manifest#mediaTypeToRemember()}), if one is stored there. */
    private Optional<String> readMediaType(String path) throws IOException {
        try (InputStream in = node.filesRead(path, 0, 200)) {
            byte[] buffer = new byte[200];
            int n = StreamCopy.readFully(in, buffer);
            String text = new String(buffer, 0, n, StandardCharsets.UTF_8).trim();
            return MediaTypes.ALL.contains(text) ? Optional.of(text) : Optional.empty();
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
