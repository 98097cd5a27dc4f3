package io.mirrorball.ipfs;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * The subset of the Kubo RPC API that mirrorball uses. Two implementations run one contract test
 * suite: {@code KuboRpcNode} (a real Kubo, or the js-ipfs test node) and {@code EmbeddedNode}.
 *
 * <p>MFS paths are absolute ({@code /docker/registry/v2/...}). Every method throws
 * {@link IpfsException} (an IOException) for failures; a missing MFS path or CID is an
 * {@link IpfsNotFoundException}. Streams returned here belong to the caller, who closes them.
 */
public interface IpfsNode extends AutoCloseable {

    /**
     * Imports bytes with the fixed import parameters ({@link ImportParams#FIXED}): CIDv1,
     * raw leaves, 262144-byte chunks, sha2-256, balanced layout, at most 174 links per node.
     * Nothing is pinned and nothing is placed in MFS. The stream is read to its end, not closed.
     */
    Added add(InputStream content) throws IOException;

    /**
     * An {@link #add} whose content arrives piece by piece over time (an upload in several requests),
     * or empty when this node only adds whole streams. The caller ends it with
     * {@link StreamingAdd#finish} or abandons it with {@link StreamingAdd#close}.
     */
    default java.util.Optional<StreamingAdd> startAdd() throws IOException {
        return java.util.Optional.empty();
    }

    /** See {@link #startAdd}. Not thread-safe: one writer at a time. */
    interface StreamingAdd extends AutoCloseable {
        /** Appends content. */
        void write(byte[] bytes, int offset, int length) throws IOException;

        /** Ends the content; the result is what {@link #add} of the same bytes returns. */
        Added finish() throws IOException;

        /** Abandons the add if it was not finished (its blocks are unreferenced garbage). Idempotent. */
        @Override
        void close();
    }

    /**
     * Reads a UnixFS file: {@code <cid>} or {@code <cid>/path/inside}, from {@code offset},
     * at most {@code length} bytes ({@code -1} for all). The caller closes the stream.
     */
    InputStream cat(String cidPath, long offset, long length) throws IOException;

    /**
     * As {@link #cat}, for a caller that checks every byte it reads against a digest of its own (a
     * blob's): a node may then skip its own check of each block against its CID, so that the bytes
     * are hashed once. Kubo does not check blocks on read either way.
     */
    default InputStream catUnverified(String cidPath, long offset, long length) throws IOException {
        return cat(cidPath, offset, length);
    }

    /** Stores a raw block with the given codec (dag-pb 0x70 or raw 0x55) and sha2-256; returns its CIDv1. */
    Cid blockPut(byte[] block, long codec) throws IOException;

    /** The bytes of one block (blocks are at most 1 MiB, so they are read whole). */
    byte[] blockGet(Cid cid) throws IOException;

    /** Size of a block, or empty when the node does not have it locally (no network fetch). */
    Optional<Long> blockStat(Cid cid) throws IOException;

    /** Creates a directory, with its parents. Existing directories are fine. */
    void filesMkdir(String path) throws IOException;

    /**
     * Writes a small file (a link file, disco.json) creating parents, replacing what was there.
     * Never used for blobs: its DAG shape depends on the write, so its CID is not the {@code add} CID.
     */
    void filesWrite(String path, byte[] content) throws IOException;

    /** Reads an MFS file from offset, at most length bytes ({@code -1} for all). */
    InputStream filesRead(String path, long offset, long length) throws IOException;

    /** Stat of an MFS path, or empty when nothing is there. */
    Optional<FileStat> filesStat(String path) throws IOException;

    /** Entries of an MFS directory, sorted by name; an {@link IpfsNotFoundException} when it does not exist. */
    List<FileEntry> filesLs(String path) throws IOException;

    /**
     * Copies {@code /ipfs/<cid>} or an MFS path to an MFS path, creating the destination's parents.
     * The destination must not exist.
     */
    void filesCp(String from, String to) throws IOException;

    /** Moves an MFS path; the destination must not exist. */
    void filesMv(String from, String to) throws IOException;

    /** Removes an MFS path recursively; a missing path is not an error. */
    void filesRm(String path) throws IOException;

    /** Flushes an MFS path to the blockstore and returns its CID. */
    Cid filesFlush(String path) throws IOException;

    /** Pins a CID recursively (every block under it). */
    void pinAdd(Cid cid) throws IOException;

    /** Removes a recursive pin; a CID that is not pinned is not an error. */
    void pinRm(Cid cid) throws IOException;

    /** CAR v1 of the DAG under a root. The caller closes the stream. */
    InputStream dagExport(Cid root) throws IOException;

    /**
     * Imports a CAR v1 stream (not closed) and returns its roots. Never pins: the roots stay
     * unpinned (Kubo's {@code pin-roots=false}), because nothing has yet checked that the DAG under
     * them is complete. A caller that wants to keep them pins them with {@link #pinAdd} afterwards,
     * which fails when a block is missing. A failed import leaves only unpinned, unreferenced blocks.
     */
    List<Cid> dagImport(InputStream car) throws IOException;

    /**
     * Tells {@code observer} of every RPC this node sends to its daemon. A node that calls no daemon
     * (the embedded node) ignores it.
     */
    default void observeRpc(RpcObserver observer) {
    }

    /** The node's identity. */
    NodeId id() throws IOException;

    /** The node's version string (for logs and /metrics). */
    String version() throws IOException;

    @Override
    void close() throws IOException;

    /** Result of {@link #add}: the root CID and the number of content bytes imported. */
    record Added(Cid cid, long size) {
    }

    /**
     * Stat of an MFS path.
     *
     * @param size           content bytes of a file (0 for a directory)
     * @param cumulativeSize bytes of all blocks under it
     */
    record FileStat(Cid cid, long size, long cumulativeSize, boolean directory) {
    }

    /** One entry of a directory listing. */
    record FileEntry(String name, Cid cid, long size, boolean directory) {
    }

    /** The node's peer id and addresses. */
    record NodeId(String id, List<String> addresses) {
        public NodeId {
            addresses = List.copyOf(addresses);
        }
    }
}
