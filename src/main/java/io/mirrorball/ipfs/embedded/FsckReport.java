package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import java.util.List;

/**
 * The result of {@link EmbeddedNode#fsck(boolean)}: every block file was hashed, and every block
 * reachable from the MFS root and from the pinned roots was checked.
 *
 * @param root          the MFS root that was checked
 * @param blocksChecked distinct blocks read and verified
 * @param bytesChecked  their total size
 * @param missing       reachable blocks that are not in the blockstore
 * @param corrupt       blocks whose bytes do not match their CID, or dag-pb blocks that do not decode:
 *                      the reachable ones by their CID, then block files that nothing references (as raw CIDs)
 * @param blockFiles    block files read and hashed (every file in the blockstore)
 * @param removed       corrupt block files deleted by a repair
 * @param damagedBlobFiles blob files whose index could not be loaded ({@code <root hex>: reason}): their
 *                      leaves count as missing; a repair keeps every whole chunk of the data file as a
 *                      block file and deletes the blob file
 */
public record FsckReport(Cid root, long blocksChecked, long bytesChecked, List<Cid> missing, List<Cid> corrupt,
                         long blockFiles, List<Cid> removed, List<String> damagedBlobFiles) {
    public FsckReport {
        missing = List.copyOf(missing);
        corrupt = List.copyOf(corrupt);
        removed = List.copyOf(removed);
        damagedBlobFiles = List.copyOf(damagedBlobFiles);
    }

    /** True when no block is missing or corrupt and every blob file could be read. */
    public boolean clean() {
        return missing.isEmpty() && corrupt.isEmpty() && damagedBlobFiles.isEmpty();
    }

    /** Problems found: missing plus corrupt blocks, plus damaged blob files. */
    public int problems() {
        return missing.size() + corrupt.size() + damagedBlobFiles.size();
    }
}
