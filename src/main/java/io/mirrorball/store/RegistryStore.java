package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/** The registry on top of an {@link IpfsNode}: blobs, uploads, manifests and repositories. */
public final class RegistryStore {
    private final IpfsNode node;
    private final BlobStore blobs;
    private final UploadStore uploads;
    private final ManifestStore manifests;
    private final RepositoryIndex repositories;

    private RegistryStore(IpfsNode node, BlobStore blobs, UploadStore uploads, ManifestStore manifests,
                          RepositoryIndex repositories) {
        this.node = node;
        this.blobs = blobs;
        this.uploads = uploads;
        this.manifests = manifests;
        this.repositories = repositories;
    }

    /**
     * @param mfsRoot     absolute MFS path under which everything lives
     * @param uploadsPath local directory for upload sessions
     */
    public static RegistryStore open(IpfsNode node, String mfsRoot, Path uploadsPath, Duration uploadExpiry,
                                     Clock clock) throws IOException {
        MfsPaths paths = new MfsPaths(mfsRoot);
        BlobStore blobs = new BlobStore(node, paths);
        return new RegistryStore(node, blobs, new UploadStore(uploadsPath, uploadExpiry, clock, blobs),
                new ManifestStore(node, paths, blobs), new RepositoryIndex(node, paths));
    }

    public IpfsNode node() {
        return node;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public UploadStore uploads() {
        return uploads;
    }

    public ManifestStore manifests() {
        return manifests;
    }

    public RepositoryIndex repositories() {
        return repositories;
    }
}
