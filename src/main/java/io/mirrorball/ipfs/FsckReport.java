package io.mirrorball.ipfs;

import java.util.List;

/**
 * The result of {@link EmbeddedNode#fsck()}: every block reachable from the MFS root and from the
 * pinned roots was read and checked against its CID.
 *
 * @param root          the MFS root that was checked
 * @param blocksChecked distinct blocks read and verified
 * @param bytesChecked  their total size
 * @param missing       reachable blocks that are not in the blockstore
 * @param corrupt       blocks whose bytes do not match their CID, or dag-pb blocks that do not decode
 */
public record FsckReport(Cid root, long blocksChecked, long bytesChecked, List<Cid> missing, List<Cid> corrupt) {
    public FsckReport {
        missing = List.copyOf(missing);
        corrupt = List.copyOf(corrupt);
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
