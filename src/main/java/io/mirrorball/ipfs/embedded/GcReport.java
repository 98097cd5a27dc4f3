package io.mirrorball.ipfs.embedded;

/**
 * The result of {@link EmbeddedNode#gc(java.time.Duration)}.
 *
 * @param blobFilesRemoved  blob files (data file and index) removed: imports that nothing reachable uses
 * @param blockFilesRemoved small block files removed
 * @param bytesFreed        the size of the files removed
 */
public record GcReport(int blobFilesRemoved, long blockFilesRemoved, long bytesFreed) {
}
