package io.mirrorball.upstream;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;

/**
 * Told what the pull-through mirror put into the store and when stored content is served again, so
 * that retention can remove what is idle or least recently used. Called on request and mirror
 * threads: implementations must be cheap and must not throw.
 */
public interface CacheListener {
    /** Does nothing: no retention. */
    CacheListener NONE = new CacheListener() {
        @Override
        public void stored(String upstream, RepositoryName name, Digest digest, long size) {
        }

        @Override
        public void served(Digest digest) {
        }
    };

    /** A blob or manifest of {@code name} from {@code upstream} (its name) is now in the store. */
    void stored(String upstream, RepositoryName name, Digest digest, long size);

    /** Stored content was served (from IPFS, or from memory for a manifest). */
    void served(Digest digest);
}
