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
 */
public record FsckReport(Cid root, long blocksChecked, long bytesChecked, List<Cid> missing, List<Cid> corrupt,
                         long blockFiles, List<Cid> removed) {
    public FsckReport {
        missing = List.copyOf(missing);
        corrupt = List.copyOf(corrupt);
        removed = List.copyOf(removed);
    }

    /** True when no block is missing or corrupt. */
    public boolean clean() {
        return missing.isEmpty() && corrupt.isEmpty();
    }

    /** Problems found: missing plus corrupt blocks. */
    public int problems() {
        return missing.size() + corrupt.size();
    }
}
