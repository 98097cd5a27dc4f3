package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;

/** A manifest read from IPFS: its digest, exact bytes, parsed form, and the CID of its file. */
public record StoredManifest(Digest digest, byte[] content, Manifest manifest, Cid cid) {
    public String mediaType() {
        return manifest.mediaType();
    }
}
