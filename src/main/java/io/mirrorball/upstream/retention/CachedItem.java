package io.mirrorball.upstream.retention;

import io.mirrorball.oci.Digest;
import java.time.Instant;

/**
 * One blob or manifest that the pull-through mirror put into the store.
 *
 * @param size       its size in bytes
 * @param lastUse    when it was stored or last served
 * @param upstream   the name of the upstream it came from ("" if not known)
 * @param repository the repository it was pulled as ("" if not known)
 */
public record CachedItem(Digest digest, long size, Instant lastUse, String upstream, String repository) {
}
