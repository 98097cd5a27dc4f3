package io.mirrorball.ipfs.embedded;

/**
 * The result of {@link EmbeddedNode#repack()}.
 *
 * @param filesConverted files whose leaves were moved from block files into a blob file of their own
 * @param blocksMoved    leaf block files deleted because a blob file now holds their bytes
 * @param bytesFreed     the size of those block files (the blob files hold the same bytes, so the
 *                       disk space saved is their per-file overhead; the gain is one file per blob)
 */
public record RepackReport(int filesConverted, long blocksMoved, long bytesFreed) {
}
