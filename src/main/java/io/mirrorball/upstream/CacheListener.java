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
    CacheListener NONE = new NoCacheRecord(true);

    /**
     * Keeps no record and holds nothing: every blob the mirror serves comes from the upstream (for an
     * instance that cannot keep the ledger, so cannot tell pulled content from pushed).
     */
    CacheListener UNTRACKED = new NoCacheRecord(false);

    /** A blob or manifest of {@code name} from {@code upstream} (its name) is now in the store. */
    void stored(String upstream, RepositoryName name, Digest digest, long size);

    /** Stored content was served (from IPFS, or from memory for a manifest). */
    void served(Digest digest);

    /**
     * True when the store's copy of {@code digest} came from an upstream, so the pull-through mirror may
     * serve it under any name. Content that was only pushed here is not the mirror's to give: served
     * through an upstream route by its digest, it would escape its repository and its access rules.
     * ({@link #NONE} keeps no record and says true.)
     */
    boolean holds(Digest digest);
}
