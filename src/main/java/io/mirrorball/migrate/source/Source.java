package io.mirrorball.migrate.source;

import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;

/**
 * Where images come from: a registry, an OCI image layout or a {@code docker save} archive. Failures
 * are {@link io.mirrorball.migrate.MigrateException}s whose kind says why. Implementations are safe
 * for use by several copy jobs at once.
 */
public interface Source extends AutoCloseable {
    /** The images this source names, lazily: a registry's tags and catalog are listed page by page. */
    Iterator<ImageTask> images();

    /** A manifest by tag or digest, its digest checked (against the reference when it is a digest). */
    Fetched manifest(String repository, Reference reference) throws IOException;

    /** A blob from {@code offset} (see {@link BlobStream#offset()}). */
    BlobStream blob(String repository, Descriptor blob, long offset) throws IOException;

    /**
     * The manifests that name {@code subject} as their subject (signatures, SBOMs), from the
     * referrers API or its tag fallback; empty when there are none or the source cannot tell.
     */
    List<Descriptor> referrers(String repository, Digest subject) throws IOException;

    /**
     * The source's pull rate limit as of its last manifest response (Docker Hub's
     * {@code ratelimit-limit} and {@code ratelimit-remaining}), when it announces one.
     */
    default java.util.Optional<io.mirrorball.upstream.RateLimitInfo> rateLimit() {
        return java.util.Optional.empty();
    }

    @Override
    void close() throws IOException;
}
