package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Deletion of manifests (docs/gc.md). A DELETE by digest removes the revision from its repository with
 * every tag pointing at it; a DELETE by tag removes only the tag. Once no ordinary repository holds a
 * manifest any more, its published copies go too: the digest repository {@code repositories/<hex>},
 * the CID repository {@code repositories/<cid>}, the ipdr view {@code _ipdr/<hex>}, and the CID's pin;
 * every CID of the image is marked deleted
 * ({@link MfsPaths#deletedImage}), so that a pull of it is not cloned from blocks the node still holds.
 * The bytes stay under {@code blobs/} until a gc sweeps them.
 */
public final class ImageDeleter {

    private final IpfsNode node;
    private final MfsPaths paths;
    private final ManifestStore manifests;
    private final ImagePublisher publisher;
    private final RepositoryIndex repositories;

    ImageDeleter(IpfsNode node, MfsPaths paths, ManifestStore manifests, ImagePublisher publisher,
                 RepositoryIndex repositories) {
        this.node = node;
        this.paths = paths;
        this.manifests = manifests;
        this.publisher = publisher;
        this.repositories = repositories;
    }

    /**
     * DELETE of {@code /v2/<name>/manifests/<reference>} in an ordinary repository.
     *
     * @return false when the repository holds no such tag or manifest
     */
    public boolean delete(RepositoryName name, Reference reference) throws IOException {
        if (reference.tag() != null) {
            Optional<Digest> digest = manifests.resolve(name, reference);
            if (!manifests.delete(name, reference)) {
                return false;
            }
            io.mirrorball.log.Events.log("delete", "repository", name, "tag", reference.tag(), "digest",
                    digest.map(Digest::toString).orElse("-"));
            return true;
        }
        Digest digest = reference.digest();
        Set<Cid> cids = publishedCids(digest); // before the revision goes: the CID may be computed from it
        if (!manifests.delete(name, reference)) {
            return false;
        }
        io.mirrorball.log.Events.log("delete", "repository", name, "digest", digest);
        if (!heldByOrdinaryRepository(digest)) {
            unpublish(digest, cids);
        }
        return true;
    }

    /**
     * An administrator's DELETE of a content-addressed repository's manifest ({@code /v2/<cid>/...} or
     * {@code /v2/<digest hex>/...}): the image is taken down here, from every ordinary repository that
     * holds its manifest (revisions and tags) and from its published copies.
     *
     * @return the manifest digest deleted; MANIFEST_UNKNOWN when that repository is not here
     */
    public Digest deleteContentAddressed(ContentAddress address, Reference reference) throws IOException {
        RepositoryName name = RepositoryName.parse(address.name());
        if (node.filesStat(paths.repository(address.name())).isEmpty()) {
            throw new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + reference + " is not in " + name);
        }
        Digest digest = manifests.resolve(name, reference).orElseThrow(() ->
                new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + reference + " is not in " + name));
        Set<Cid> cids = publishedCids(digest);
        if (address.cid() != null) {
            cids.add(address.cid());
        }
        for (String repository : repositories.catalog()) {
            RepositoryName ordinary = RepositoryName.parse(repository);
            if (node.filesStat(paths.revisionLink(ordinary, digest)).isPresent()) {
                manifests.delete(ordinary, Reference.ofDigest(digest));
                io.mirrorball.log.Events.log("delete", "repository", ordinary, "digest", digest);
            }
        }
        if (address.cid() != null && !address.name().equals(address.cid().toString())) {
            // an ipdr (ciq...) name: its own directory, besides the bafy... one
            node.filesRm(paths.repository(address.name()));
            io.mirrorball.log.Events.log("delete", "repository", address.name(), "digest", digest);
        }
        unpublish(digest, cids);
        manifests.changed();
        return digest;
    }

    /** True when an ordinary (pushed) repository holds this manifest revision. */
    boolean heldByOrdinaryRepository(Digest digest) throws IOException {
        for (String repository : repositories.catalog()) {
            if (node.filesStat(paths.revisionLink(RepositoryName.parse(repository), digest)).isPresent()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The CIDs an image of this manifest was published under here: the one computed for it, and every
     * CID tag of its digest repository (disco's, when disco shares the root).
     */
    Set<Cid> publishedCids(Digest digest) throws IOException {
        Set<Cid> cids = new LinkedHashSet<>();
        try {
            publisher.publishedCid(digest).ifPresent(cids::add);
        } catch (OciException | IpfsNotFoundException e) {
            // not an image publishing takes: nothing was published for it
        }
        if (digest.algorithm().equals("sha256")) {
            for (IpfsNode.FileEntry tag : list(paths.repository(digest.hex()) + "/_manifests/tags")) {
                if (tag.directory() && Cid.isCid(tag.name())) {
                    cids.add(Cid.parse(tag.name()));
                }
            }
        }
        publisher.ipdrCid(digest).ifPresent(cids::add);
        return cids;
    }

    /**
     * Removes the published copies of a manifest: marks every CID deleted first (so that no pull clones
     * it from the blocks in between), then removes the CID and digest repositories and unpins the CIDs.
     */
    void unpublish(Digest digest, Set<Cid> cids) throws IOException {
        for (Cid cid : cids) {
            node.filesWrite(paths.deletedImage(cid), digest.toString().getBytes(StandardCharsets.UTF_8));
        }
        for (Cid cid : cids) {
            if (node.filesStat(paths.repository(cid.toString())).isPresent()) {
                node.filesRm(paths.repository(cid.toString()));
                io.mirrorball.log.Events.log("delete", "repository", cid, "digest", digest);
            }
            node.pinRm(cid);
        }
        if (digest.algorithm().equals("sha256") && node.filesStat(paths.ipdrImage(digest)).isPresent()) {
            node.filesRm(paths.ipdrImage(digest));
        }
        if (digest.algorithm().equals("sha256") && node.filesStat(paths.repository(digest.hex())).isPresent()) {
            node.filesRm(paths.repository(digest.hex()));
            io.mirrorball.log.Events.log("delete", "repository", digest.hex(), "digest", digest);
        }
        publisher.forget(digest);
    }

    private List<IpfsNode.FileEntry> list(String dir) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return List.of();
        }
    }
}
