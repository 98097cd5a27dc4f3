package io.mirrorball.migrate.dest;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.ManifestStore;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.store.UploadSession;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * The gateway's store, opened directly ({@code --store}) when no gateway runs: the same code a push
 * goes through (an upload session that verifies the digest and adds the bytes to IPFS as they
 * stream, then {@code ManifestStore.put}, which publishes), without HTTP. A blob the store holds in
 * any repository is only linked. The upload sessions are the gateway's, so an interrupted run
 * resumes them as a client would.
 */
public final class StoreDestination implements Destination {
    private final RegistryStore store;

    public StoreDestination(RegistryStore store) {
        this.store = store;
    }

    @Override
    public BlobPlan ensureBlob(RepositoryName repository, Descriptor blob) throws IOException {
        return refusing("copy blob " + blob.digest() + " into " + repository, () -> {
            if (store.blobs().stat(blob.digest()).isPresent()) {
                store.blobs().link(repository, blob.digest());
                return new BlobPlan.Linked();
            }
            UploadSession session = store.uploads().start(repository);
            return new BlobPlan.Upload(session.uuid(), 0);
        });
    }

    @Override
    public Optional<BlobPlan.Upload> resume(RepositoryName repository, String token) throws IOException {
        return refusing("resume an upload into " + repository, () -> {
            try {
                UploadSession session = store.uploads().get(repository, token);
                return Optional.of(new BlobPlan.Upload(session.uuid(), session.size()));
            } catch (OciException e) {
                if (e.code() == OciErrorCode.BLOB_UPLOAD_UNKNOWN) {
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    @Override
    public void upload(RepositoryName repository, BlobPlan.Upload upload, Descriptor blob, InputStream in)
            throws IOException {
        refusing("copy blob " + blob.digest() + " into " + repository, () -> {
            UploadSession session = store.uploads().get(repository, upload.token());
            session = store.uploads().append(session, in, upload.offset(), null);
            store.uploads().complete(session, blob.digest());
            return null;
        });
    }

    @Override
    public Published putManifest(RepositoryName repository, Reference reference, Fetched manifest) throws IOException {
        ManifestStore.PutResult result = refusing("put manifest " + manifest.digest() + " into " + repository,
                () -> store.manifests().put(repository, reference, manifest.bytes(), manifest.mediaType()));
        if (result.published() == null) {
            throw new MigrateException(FailureKind.NO_CID, repository + "@" + manifest.digest()
                    + " was stored but not published");
        }
        return new Published(result.digest(), result.published());
    }

    @Override
    public Optional<Published> existing(RepositoryName repository, Reference reference) throws IOException {
        return refusing("look up " + repository + ":" + reference, () -> {
            Optional<Digest> digest = store.manifests().resolve(repository, reference);
            if (digest.isEmpty()) {
                return Optional.empty();
            }
            Optional<Cid> cid = store.publisher().publishedCid(digest.get());
            return cid.map(c -> new Published(digest.get(), c));
        });
    }

    @Override
    public boolean hasBlob(RepositoryName repository, Digest blob) throws IOException {
        return refusing("look up blob " + blob, () -> store.blobs().stat(repository, blob).isPresent());
    }

    @Override
    public void cancel(RepositoryName repository, String token) throws IOException {
        refusing("cancel an upload", () -> {
            try {
                store.uploads().cancel(store.uploads().get(repository, token));
            } catch (OciException e) {
                if (e.code() != OciErrorCode.BLOB_UPLOAD_UNKNOWN) {
                    throw e;
                }
            }
            return null;
        });
    }

    @Override
    public void close() {
        // the store belongs to whoever opened it
    }

    private interface StoreCall<T> {
        T run() throws IOException;
    }

    /** The store's refusals (OciExceptions) become DESTINATION_REFUSED with their code and message. */
    private static <T> T refusing(String action, StoreCall<T> call) throws IOException {
        try {
            return call.run();
        } catch (OciException e) {
            throw new MigrateException(FailureKind.DESTINATION_REFUSED, "the store refused to " + action + ": "
                    + e.code().code() + ": " + e.detail());
        }
    }
}
