package io.mirrorball.migrate.dest;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import java.util.Objects;

/** A manifest the destination holds, with the CID it was published under. */
public record Published(Digest digest, Cid cid) {
    public Published {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(cid, "cid");
    }
}
