package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;

/** A blob held in IPFS: its digest, its size in bytes, and the CID of its UnixFS file. */
public record BlobInfo(Digest digest, long size, Cid cid) {
}
