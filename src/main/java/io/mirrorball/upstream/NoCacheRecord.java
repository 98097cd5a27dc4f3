package io.mirrorball.upstream;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;

/** A {@link CacheListener} that records nothing, and says of every digest that it holds it, or none. */
final class NoCacheRecord implements CacheListener {
    private final boolean holdsAll;

    NoCacheRecord(boolean holdsAll) {
        this.holdsAll = holdsAll;
    }

    @Override
    public void stored(String upstream, RepositoryName name, Digest digest, long size) {
    }

    @Override
    public void served(Digest digest) {
    }

    @Override
    public boolean holds(Digest digest) {
        return holdsAll;
    }
}
