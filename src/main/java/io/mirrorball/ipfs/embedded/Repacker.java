package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * Migrates a data directory of the previous layout, where every leaf is a block file, to blob
 * files. It walks the DAGs reachable from the given roots (the MFS root and the pins) as fsck does.
 * A dag-pb file node is converted when its leaves are raw sha2-256 blocks, every one a full
 * {@link Importer#CHUNK} but the last, and {@link Importer#rootOf} of their digests gives the node's
 * CID back: exactly the layout an import of today writes, so the blob file is named by, and loads
 * as, that root. Anything else (other chunkers, trickle DAGs, inline data, missing leaves) is left
 * as it is, still readable block by block. The file's dag-pb nodes stay block files.
 *
 * <p>Per file, in this order: (1) each leaf is read from its block file, checked against its
 * digest and appended to a temp data file in {@code blobs/.tmp}; (2) the data file, then its index,
 * is renamed into place (the index's rename is the commit); (3) the blob file is fsynced, with its
 * directory; (4) only then are the leaves' block files deleted, and only those of digests a blob
 * file holds. kill -9 (or power loss) loses nothing at any point: before (2) the leaves are all
 * still block files and the temp file is deleted at the next open; between (2) and the end of (3)
 * the leaves are block files and, possibly, also a blob file (a data file without its index is
 * deleted at open; an index is only loaded when it checks out against its root); from (4) on the
 * blob file is durable, so a leaf whose block file is gone is read from it. A run that was cut short
 * is finished by the next: a file whose blob file already exists has its leaves checked in the blob
 * file and the block files of those that are sound deleted. Block files are read and deleted, never
 * rewritten, so a block that two files share is deleted once either is converted, and the other
 * finds it through the blob-file index.
 */
final class Repacker {
    private final Blockstore blocks;
    private final ExecutorService threads;
    private int files;
    private long moved;
    private long freed;

    /** A file's leaves in order, and the dag-pb nodes above them. */
    private record Layout(byte[] digests, long size, List<Cid> nodes) {
    }

    private Repacker(Blockstore blocks, ExecutorService threads) {
        this.blocks = blocks;
        this.threads = threads;
    }

    /** Converts every convertible file under {@code roots}; {@code threads} run the blob file writers. */
    static RepackReport run(Blockstore blocks, List<Cid> roots, ExecutorService threads) throws IOException {
        Repacker repacker = new Repacker(blocks, threads);
        Set<Cid> seen = new HashSet<>();
        for (Cid root : roots) {
            repacker.walk(root, seen);
        }
        return new RepackReport(repacker.files, repacker.moved, repacker.freed);
    }

    private void walk(Cid root, Set<Cid> seen) throws IOException {
        Deque<Cid> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (cid.codec() != Cid.DAG_PB || !cid.isSha256() || !seen.add(cid)) {
                continue;
            }
            Optional<DagPb.Decoded> node = node(cid);
            if (node.isEmpty()) {
                continue; // missing or corrupt: fsck reports it, repack leaves it
            }
            Optional<BlobFiles.DataFile> existing = blocks.blobs().byRoot(cid.sha256Digest());
            if (existing.isPresent()) {
                finishInterrupted(existing.get());
                continue; // an import of this version, or a file a run before converted
            }
            if (!isDirectory(node.get())) {
                Optional<Layout> layout = layout(cid, node.get());
                if (layout.isPresent()) {
                    seen.addAll(layout.get().nodes());
                    convert(cid, layout.get());
                    continue;
                }
            }
            for (DagPb.Link link : node.get().links()) {
                stack.push(link.cid());
            }
        }
    }

    /**
     * The leaves under a file node when it is exactly an import's layout: raw sha2-256 leaves, all
     * full chunks but the last, and a root that {@link Importer#rootOf} gives back.
     */
    private Optional<Layout> layout(Cid root, DagPb.Decoded rootNode) throws IOException {
        if (rootNode.links().isEmpty()) {
            return Optional.empty();
        }
        java.io.ByteArrayOutputStream digests = new java.io.ByteArrayOutputStream(); // 32 bytes a leaf
        List<Cid> nodes = new ArrayList<>();
        List<Long> lengths = new ArrayList<>();
        Deque<Cid> stack = new ArrayDeque<>();
        nodes.add(root);
        pushReversed(stack, rootNode);
        while (!stack.isEmpty()) {
            Cid cid = stack.pop();
            if (!cid.isSha256()) {
                return Optional.empty();
            }
            if (cid.codec() == Cid.RAW) {
                Optional<Long> length = blocks.size(cid);
                if (length.isEmpty()) {
                    return Optional.empty();
                }
                digests.writeBytes(cid.sha256Digest());
                lengths.add(length.get());
            } else if (cid.codec() == Cid.DAG_PB) {
                Optional<DagPb.Decoded> node = node(cid);
                if (node.isEmpty() || isDirectory(node.get()) || node.get().links().isEmpty()) {
                    return Optional.empty();
                }
                nodes.add(cid);
                pushReversed(stack, node.get());
            } else {
                return Optional.empty();
            }
        }
        long size = 0;
        for (int i = 0; i < lengths.size(); i++) {
            long length = lengths.get(i);
            boolean last = i == lengths.size() - 1;
            if (last ? length < 1 || length > Importer.CHUNK : length != Importer.CHUNK) {
                return Optional.empty();
            }
            size += length;
        }
        byte[] leafDigests = digests.toByteArray();
        try {
            if (!Importer.rootOf(leafDigests, size).equals(root)) {
                return Optional.empty();
            }
        } catch (IllegalArgumentException notOurs) {
            return Optional.empty();
        }
        return Optional.of(new Layout(leafDigests, size, nodes));
    }

    private static void pushReversed(Deque<Cid> stack, DagPb.Decoded node) {
        List<DagPb.Link> links = node.links();
        for (int i = links.size() - 1; i >= 0; i--) {
            stack.push(links.get(i).cid());
        }
    }

    /** Writes the blob file, syncs it, then deletes the leaves' block files. */
    private void convert(Cid root, Layout layout) throws IOException {
        int leaves = layout.digests().length / 32;
        boolean anyFile = false;
        for (int leaf = 0; leaf < leaves && !anyFile; leaf++) {
            anyFile = blocks.hasFile(leafDigest(layout.digests(), leaf));
        }
        if (!anyFile) {
            return; // every leaf is in other blob files already: nothing to move
        }
        try (BlobFileWriter writer = blocks.newImport(threads)) {
            for (int leaf = 0; leaf < leaves; leaf++) {
                byte[] digest = leafDigest(layout.digests(), leaf);
                Optional<byte[]> bytes = blocks.read(Cid.sha256(Cid.RAW, digest));
                if (bytes.isEmpty() || !MessageDigest.isEqual(UnixFs.sha256(bytes.get()), digest)) {
                    return; // lost or corrupt since the layout was read: leave the file as it is (fsck)
                }
                byte[] buffer = writer.chunkBuffer();
                System.arraycopy(bytes.get(), 0, buffer, 0, bytes.get().length);
                writer.put(digest, buffer, bytes.get().length);
            }
            writer.finish(root, layout.size());
        }
        blocks.syncPending();
        files++;
        deleteLeafFiles(layout.digests());
    }

    /**
     * A blob file exists for this root: when block files of its leaves are left (a run that was cut
     * short), the blob file is forced to disk and its leaves checked, and the block files of a
     * sound blob file are deleted.
     */
    private void finishInterrupted(BlobFiles.DataFile file) throws IOException {
        boolean anyFile = false;
        for (int leaf = 0; leaf < file.leafCount() && !anyFile; leaf++) {
            anyFile = blocks.hasFile(file.leafDigest(leaf));
        }
        if (!anyFile) {
            return;
        }
        boolean[] corrupt = {false};
        blocks.blobs().verifyLeaves(file, digest -> corrupt[0] = true);
        if (corrupt[0]) {
            return; // the block files are the sound copies: keep them (fsck reports the blob file)
        }
        for (java.nio.file.Path path : List.of(file.data(), file.index())) {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(path)) {
                channel.force(true);
            }
        }
        Blockstore.fsyncDirectory(file.data().getParent());
        deleteLeafFiles(file.digests());
    }

    private void deleteLeafFiles(byte[] digests) throws IOException {
        for (int leaf = 0; leaf < digests.length / 32; leaf++) {
            long bytes = blocks.removeMovedLeaf(leafDigest(digests, leaf));
            if (bytes >= 0) {
                moved++;
                freed += bytes;
            }
        }
        blocks.syncPending(); // the directories: not needed for safety, but the deletions stick
    }

    private static byte[] leafDigest(byte[] digests, int leaf) {
        return Arrays.copyOfRange(digests, leaf * 32, leaf * 32 + 32);
    }

    private Optional<DagPb.Decoded> node(Cid cid) throws IOException {
        Optional<byte[]> block = blocks.read(cid);
        if (block.isEmpty() || !MessageDigest.isEqual(UnixFs.sha256(block.get()), cid.sha256Digest())) {
            return Optional.empty();
        }
        try {
            DagPb.Decoded node = DagPb.decode(block.get());
            UnixFs.parse(node.data());
            return Optional.of(node);
        } catch (IllegalArgumentException notUnixFs) {
            return Optional.empty();
        }
    }

    private static boolean isDirectory(DagPb.Decoded node) {
        return UnixFs.parse(node.data()).isDirectory();
    }
}
