package io.mirrorball.migrate.dest;

import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Where {@code migrate} puts images: a running gateway ({@code --to URL}) or the gateway's store
 * opened directly ({@code --store}). Both publish every manifest through the gateway's
 * {@code ImagePublisher}, so both report the CID a plain push gives. A refusal is a
 * {@link io.mirrorball.migrate.MigrateException} of kind {@code DESTINATION_REFUSED} (or
 * {@code DENIED}, {@code NO_CID}). Safe for use by several copy jobs at once.
 */
public interface Destination extends AutoCloseable {
    /** Links the blob into the repository if the destination holds it anywhere, else opens an upload. */
    BlobPlan ensureBlob(RepositoryName repository, Descriptor blob) throws IOException;

    /**
     * An upload named in the resume journal, with the offset the destination holds now; empty when the
     * session is gone (expired, or completed meanwhile).
     */
    Optional<BlobPlan.Upload> resume(RepositoryName repository, String token) throws IOException;

    /**
     * Sends the blob's bytes from the upload's offset to the end ({@code in} starts at that offset)
     * and completes the upload; the destination checks the digest and size.
     */
    void upload(RepositoryName repository, BlobPlan.Upload upload, Descriptor blob, InputStream in) throws IOException;

    /** Puts the manifest's bytes as they are under the reference (a tag, or its digest) and returns its CID. */
    Published putManifest(RepositoryName repository, Reference reference, Fetched manifest) throws IOException;

    /** The manifest under the reference, and its CID, if the destination has it (for {@code --dry-run}). */
    Optional<Published> existing(RepositoryName repository, Reference reference) throws IOException;

    /** Whether the repository holds the blob (for {@code --dry-run}; never writes). */
    boolean hasBlob(RepositoryName repository, Digest blob) throws IOException;

    /** Abandons an upload (left over from an interrupted run). */
    void cancel(RepositoryName repository, String token) throws IOException;

    @Override
    void close() throws IOException;
}
