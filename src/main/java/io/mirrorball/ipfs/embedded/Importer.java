package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.ImportParams;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The UnixFS file importer with mirrorball's fixed parameters ({@link ImportParams#FIXED}): 262144-byte
 * chunks, raw leaves (CIDv1, codec raw), balanced layout with at most 174 links per node, dag-pb file
 * nodes as CIDv1, sha2-256. It builds the same DAG as Kubo's and js-ipfs's {@code add}: leaves are
 * grouped 174 at a time into parents, the parents 174 at a time into grandparents, and so on, until
 * one node is left; a file of one chunk (or of 0 bytes) is that raw leaf itself.
 *
 * <p>It streams: it holds the chunks its sink has not written yet (see {@link BlobFileWriter}: at most
 * four) and the unfinished link layers (at most 174 entries per level), and hashes every chunk
 * once. A full group is reduced to its parent as soon as it is complete, which gives the same tree
 * as reducing level by level at the end.
 */
final class Importer {
    static final int CHUNK = ImportParams.FIXED.chunkSize();
    static final int MAX_LINKS = ImportParams.FIXED.maxLinks();

    private final BlockSink sink;
    private final MessageDigest sha256;
    private final List<Layer> layers = new ArrayList<>();
    /** The chunk being filled (taken from the sink), and how much of it is filled. */
    private byte[] chunk;
    private int filled;
    private boolean emitted;
    private long total;
    /** Leaves handed to a {@link HashingSink}, and the length of the last one. */
    private int leaves;
    private int lastLength;

    /** Where the importer's blocks go, and where its chunk buffers come from. */
    interface BlockSink {
        /** An array of {@link #CHUNK} bytes to read the next chunk into; it belongs to the importer until {@link #put}. */
        byte[] chunkBuffer() throws IOException;

        /**
         * Stores a leaf (a raw block of file content, in file order) whose sha-256 digest is given;
         * takes over the array (it is not touched afterwards).
         */
        void put(byte[] digest, byte[] block, int length) throws IOException;

        /** Stores a dag-pb file node whose sha-256 digest is given. */
        default void putNode(byte[] digest, byte[] block) throws IOException {
            put(digest, block, block.length);
        }

        /** Returns once every block given to {@link #put} is stored; {@code root} is the import's root. */
        void finish(Cid root, long size) throws IOException;
    }

    /**
     * A sink that hashes the leaves itself, on threads of its own, so that the importer's caller
     * only copies bytes: the importer then builds the tree at the end, from the digests.
     */
    interface HashingSink extends BlockSink {
        /** Takes a leaf (file content, in order) to hash and store; takes over the array. */
        void putUnhashed(byte[] block, int length) throws IOException;

        /** Waits until every leaf is hashed and stored; returns their sha-256 digests in order (32 bytes each). */
        byte[] leafDigests() throws IOException;
    }

    private Importer(BlockSink sink) {
        this.sink = sink;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Imports the stream to its end (it is not closed) and returns the root and the content size. */
    static IpfsNode.Added importFile(BlockSink sink, InputStream content) throws IOException {
        Importer importer = new Importer(sink);
        importer.read(content);
        return importer.finish();
    }

    /** An import whose content is given piece by piece with {@link #write} and ended with {@link #finish}. */
    static Importer start(BlockSink sink) {
        return new Importer(sink);
    }

    /** Appends the rest of the stream, read straight into the chunk buffers. */
    void read(InputStream content) throws IOException {
        while (true) {
            takeChunk();
            int n = content.readNBytes(chunk, filled, CHUNK - filled);
            filled += n;
            if (filled < CHUNK) {
                return; // readNBytes stops short only at the end of the stream
            }
            emitChunk();
        }
    }

    /** Appends bytes. */
    void write(byte[] bytes, int offset, int length) throws IOException {
        while (length > 0) {
            takeChunk();
            int n = Math.min(length, CHUNK - filled);
            System.arraycopy(bytes, offset, chunk, filled, n);
            filled += n;
            offset += n;
            length -= n;
            if (filled == CHUNK) {
                emitChunk();
            }
        }
    }

    /**
     * Ends the content: the last, short chunk becomes a leaf (as does the empty chunk of 0 bytes of
     * content), the tree is closed, and every block is stored when this returns.
     */
    IpfsNode.Added finish() throws IOException {
        if (filled > 0 || !emitted) {
            takeChunk();
            emitChunk();
        }
        if (sink instanceof HashingSink hashing) {
            byte[] digests = hashing.leafDigests();
            for (int i = 0; i < leaves; i++) {
                leaf(java.util.Arrays.copyOfRange(digests, i * 32, i * 32 + 32), i < leaves - 1 ? CHUNK : lastLength);
            }
        }
        Cid root = finishTree();
        sink.finish(root, total);
        return new IpfsNode.Added(root, total);
    }

    private void takeChunk() throws IOException {
        if (chunk == null) {
            chunk = sink.chunkBuffer();
            filled = 0;
        }
    }

    private void emitChunk() throws IOException {
        if (sink instanceof HashingSink hashing) {
            hashing.putUnhashed(chunk, filled);
            emitted = true;
            leaves++;
            lastLength = filled;
            chunk = null;
            filled = 0;
            return;
        }
        sha256.update(chunk, 0, filled);
        byte[] digest = sha256.digest();
        sink.put(digest, chunk, filled);
        leaf(digest, filled);
        chunk = null;
        filled = 0;
    }

    private void leaf(byte[] digest, int length) throws IOException {
        add(0, Cid.sha256(Cid.RAW, digest), length, length);
        emitted = true;
        total += length;
    }

    /**
     * The root CID of the file whose leaves have these sha-256 digests (32 bytes each, in order),
     * every leaf a full chunk but the last: the root {@link #importFile} gives for that content,
     * computed without the content. Used to check that a blob file's index belongs to its root.
     */
    static Cid rootOf(byte[] leafDigests, long size) throws IOException {
        int leaves = leafDigests.length / 32;
        if (leaves == 0 || leafDigests.length % 32 != 0 || size <= (long) (leaves - 1) * CHUNK
                || size > (long) leaves * CHUNK) {
            throw new IllegalArgumentException(leaves + " leaves cannot hold " + size + " bytes");
        }
        Importer importer = new Importer(new BlockSink() {
            @Override
            public byte[] chunkBuffer() {
                throw new IllegalStateException("no content");
            }

            @Override
            public void put(byte[] digest, byte[] block, int length) {
            }

            @Override
            public void finish(Cid root, long total) {
            }
        });
        for (int i = 0; i < leaves; i++) {
            int length = i < leaves - 1 ? CHUNK : (int) (size - (long) (leaves - 1) * CHUNK);
            importer.leaf(java.util.Arrays.copyOfRange(leafDigests, i * 32, i * 32 + 32), length);
        }
        return importer.finishTree();
    }

    private void add(int level, Cid cid, long tsize, long fileSize) throws IOException {
        while (layers.size() <= level) {
            layers.add(new Layer());
        }
        Layer layer = layers.get(level);
        layer.add(cid, tsize, fileSize);
        if (layer.count == MAX_LINKS) {
            reduce(level);
        }
    }

    /** Replaces the entries of a level by one parent node on the next level. */
    private void reduce(int level) throws IOException {
        Layer layer = layers.get(level);
        List<DagPb.Link> links = new ArrayList<>(layer.count);
        long tsize = 0;
        long fileSize = 0;
        for (int i = 0; i < layer.count; i++) {
            links.add(new DagPb.Link("", layer.cids[i], layer.tsizes[i]));
            tsize += layer.tsizes[i];
            fileSize += layer.fileSizes[i];
        }
        byte[] block = DagPb.encodeNode(UnixFs.fileData(layer.fileSizes, layer.count), links);
        byte[] digest = sha256.digest(block);
        sink.putNode(digest, block);
        layer.clear();
        add(level + 1, Cid.sha256(Cid.DAG_PB, digest), tsize + block.length, fileSize);
    }

    private Cid finishTree() throws IOException {
        for (int level = 0; ; level++) {
            Layer layer = layers.get(level);
            boolean top = level == layers.size() - 1;
            if (top && layer.count == 1) {
                return layer.cids[0];
            }
            if (layer.count > 0) {
                reduce(level);
            }
        }
    }

    private static final class Layer {
        final Cid[] cids = new Cid[MAX_LINKS];
        final long[] tsizes = new long[MAX_LINKS];
        final long[] fileSizes = new long[MAX_LINKS];
        int count;

        void add(Cid cid, long tsize, long fileSize) {
            cids[count] = cid;
            tsizes[count] = tsize;
            fileSizes[count] = fileSize;
            count++;
        }

        void clear() {
            count = 0;
        }
    }
}
