package io.mirrorball.ipfs;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Walks the dag-pb links under a root, offline, and finds the first block that is not there: after
 * a CAR import it tells a complete DAG from one cut short (a CAR cut at a section boundary is a
 * valid CAR). Depth first in link order, each block visited once; raw leaves are only looked up.
 */
public final class CompletenessWalk {

    /** Where the walk looks blocks up. */
    @FunctionalInterface
    public interface BlockLookup {
        /** The block, or empty when it is not present. */
        Optional<byte[]> find(Cid cid) throws IOException;

        /** Whether the block is present; by default by {@link #find}. */
        default boolean has(Cid cid) throws IOException {
            return find(cid).isPresent();
        }
    }

    private CompletenessWalk() {
    }

    /** Blocks of a node, looked up locally only ({@code blockStat} first, so no network fetch). */
    public static BlockLookup of(IpfsNode node) {
        return new BlockLookup() {
            @Override
            public Optional<byte[]> find(Cid cid) throws IOException {
                return node.blockStat(cid).isEmpty() ? Optional.empty() : Optional.of(node.blockGet(cid));
            }

            @Override
            public boolean has(Cid cid) throws IOException {
                return node.blockStat(cid).isPresent();
            }
        };
    }

    /**
     * The first block under {@code root} (the root included) that {@code lookup} lacks, or empty
     * when the DAG is complete. A dag-pb block that does not decode is an {@link IpfsException}
     * (CORRUPT); a block of another codec than dag-pb or raw cannot be walked and is refused.
     */
    public static Optional<Cid> firstMissing(Cid root, BlockLookup lookup) throws IOException {
        Deque<Cid> stack = new ArrayDeque<>();
        Set<Cid> seen = new HashSet<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (!seen.add(cid)) {
                continue;
            }
            if (cid.codec() == Cid.RAW) {
                if (!lookup.has(cid)) {
                    return Optional.of(cid);
                }
                continue;
            }
            if (cid.codec() != Cid.DAG_PB) {
                throw new IpfsException(IpfsException.Kind.FAILED, "block " + cid + " under " + root
                        + " is neither dag-pb nor raw: its links cannot be followed");
            }
            Optional<byte[]> block = lookup.find(cid);
            if (block.isEmpty()) {
                return Optional.of(cid);
            }
            List<DagPb.Link> links = DagPb.decode(cid, block.get()).links();
            for (int i = links.size() - 1; i >= 0; i--) {
                stack.push(links.get(i).cid());
            }
        }
        return Optional.empty();
    }
}
