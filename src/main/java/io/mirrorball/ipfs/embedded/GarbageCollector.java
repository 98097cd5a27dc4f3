package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Mark and sweep over one blockstore. Mark: every digest reachable from the given roots (the MFS
 * root and the pins), walking dag-pb links as fsck does; raw leaves are marked without being read.
 * Sweep: every blob file none of whose leaves nor root is marked, and every block file that is not
 * marked, is removed, unless it was modified at or after the cutoff (an {@code add} whose result is
 * not linked yet, see {@link Blockstore#removeFileIfOlder}).
 *
 * <p>A reachable dag-pb node that is missing, corrupt or undecodable stops the collection before
 * anything is removed: its links are unknown, so what it references cannot be told from garbage
 * (run fsck). The caller holds off MFS commits and pins for the whole run.
 */
final class GarbageCollector {
    private final Blockstore blocks;
    private final Set<ByteBuffer> marked = new HashSet<>();

    private GarbageCollector(Blockstore blocks) {
        this.blocks = blocks;
    }

    /** Collects everything not reachable from {@code roots} and older than {@code cutoff}. */
    static GcReport run(Blockstore blocks, List<Cid> roots, Instant cutoff) throws IOException {
        GarbageCollector gc = new GarbageCollector(blocks);
        Set<Cid> seen = new HashSet<>();
        for (Cid root : roots) {
            gc.mark(root, seen);
        }
        return gc.sweep(cutoff);
    }

    private void mark(Cid root, Set<Cid> seen) throws IOException {
        Deque<Cid> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (!cid.isSha256() || !seen.add(cid)) {
                continue; // only sha2-256 blocks are ever stored
            }
            marked.add(ByteBuffer.wrap(cid.sha256Digest()));
            if (cid.codec() != Cid.DAG_PB) {
                continue;
            }
            Optional<byte[]> block = blocks.read(cid);
            if (block.isEmpty()) {
                throw stop(cid, root, "is missing");
            }
            if (!MessageDigest.isEqual(UnixFs.sha256(block.get()), cid.sha256Digest())) {
                throw stop(cid, root, "is corrupt");
            }
            DagPb.Decoded node;
            try {
                node = DagPb.decode(block.get());
            } catch (IllegalArgumentException e) {
                throw stop(cid, root, "does not decode");
            }
            for (DagPb.Link link : node.links()) {
                stack.push(link.cid());
            }
        }
    }

    private static IpfsException stop(Cid cid, Cid root, String what) {
        return new IpfsException(IpfsException.Kind.CORRUPT, "gc: block " + cid + " under " + root + " " + what
                + "; nothing was removed (run fsck)");
    }

    private GcReport sweep(Instant cutoff) throws IOException {
        int blobFiles = 0;
        long[] blockFiles = new long[1];
        long[] bytes = new long[1];
        for (BlobFiles.DataFile file : blocks.blobs().all()) {
            if (inUse(file)) {
                continue;
            }
            long freed = blocks.removeBlobIfOlder(file, cutoff);
            if (freed >= 0) {
                blobFiles++;
                bytes[0] += freed;
            }
        }
        blocks.forEachFile(digest -> {
            if (!marked.contains(ByteBuffer.wrap(digest))) {
                long freed = blocks.removeFileIfOlder(digest, cutoff);
                if (freed >= 0) {
                    blockFiles[0]++;
                    bytes[0] += freed;
                }
            }
        });
        blocks.syncPending(); // the directories, so that what was removed stays removed
        return new GcReport(blobFiles, blockFiles[0], bytes[0]);
    }

    /** A blob file stays while its root or any of its leaves is reachable. */
    private boolean inUse(BlobFiles.DataFile file) {
        if (marked.contains(ByteBuffer.wrap(file.root()))) {
            return true;
        }
        for (int leaf = 0; leaf < file.leafCount(); leaf++) {
            if (marked.contains(ByteBuffer.wrap(file.leafDigest(leaf)))) {
                return true;
            }
        }
        return false;
    }
}
