package io.mirrorball.migrate;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;

/**
 * One image copied and published: {@code source} as the report names it, {@code destination} as
 * {@code repo:tag} or {@code repo@digest} at the destination, its manifest digest and CID, and what
 * the copy took (blobs sent, blobs the destination already had).
 */
public record ImageResult(String source, String destination, Digest digest, Cid cid, long bytesCopied,
                          int blobsCopied, int blobsSkipped) {
}
