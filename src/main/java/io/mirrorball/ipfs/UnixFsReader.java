package io.mirrorball.ipfs;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Streams a range of a UnixFS file: a raw leaf, or a dag-pb file node with inline data and children.
 * It seeks with the nodes' blocksizes, so only the blocks that overlap the range are read, and it
 * holds one block and the path of nodes above it.
 */
public final class UnixFsReader extends InputStream {
    /** Where the reader's blocks come from: the bytes of a block, checked against its CID. */
    public interface BlockSource {
        byte[] get(Cid cid) throws IOException;
    }

    private final BlockSource source;
    private final Deque<Frame> stack = new ArrayDeque<>();
    private byte[] buffer = new byte[0];
    private int position;
    private long remaining;
    private boolean closed;

    private UnixFsReader(BlockSource source, long length) {
        this.source = source;
        this.remaining = length;
    }

    /**
     * A reader of {@code length} bytes (or all, for -1) from {@code offset}.
     *
     * @throws IpfsException when the root is not a file
     */
    public static UnixFsReader open(BlockSource source, Cid root, long offset, long length) throws IOException {
        if (offset < 0) {
            throw new IpfsException(IpfsException.Kind.FAILED, "negative offset " + offset);
        }
        UnixFsReader reader = new UnixFsReader(source, length < 0 ? Long.MAX_VALUE : length);
        reader.seek(root, offset, true);
        return reader;
    }

    private void seek(Cid cid, long offset, boolean root) throws IOException {
        byte[] block = source.get(cid);
        if (cid.codec() == Cid.RAW) {
            buffer = block;
            position = (int) Math.min(offset, block.length);
            return;
        }
        if (cid.codec() != Cid.DAG_PB) {
            throw new IpfsException(IpfsException.Kind.FAILED, cid + " is not a UnixFS file (codec 0x"
                    + Long.toHexString(cid.codec()) + ")");
        }
        DagPb.Decoded node = decode(cid, block);
        UnixFs.Meta meta = meta(cid, node, root);
        long skip = offset;
        if (skip < meta.data().length) {
            buffer = meta.data();
            position = (int) skip;
            stack.push(new Frame(node.links(), 0));
            return;
        }
        skip -= meta.data().length;
        List<DagPb.Link> links = node.links();
        long[] sizes = meta.blockSizes();
        if (sizes.length != links.size() && !links.isEmpty()) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "UnixFS file node " + cid + " has " + links.size()
                    + " links but " + sizes.length + " blocksizes");
        }
        for (int i = 0; i < links.size(); i++) {
            if (skip < sizes[i]) {
                stack.push(new Frame(links, i + 1));
                seek(links.get(i).cid(), skip, false);
                return;
            }
            skip -= sizes[i];
        }
        // offset at or past the end: nothing to read
    }

    private static DagPb.Decoded decode(Cid cid, byte[] block) throws IpfsException {
        try {
            return DagPb.decode(block);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " is not dag-pb: " + e.getMessage(), e);
        }
    }

    private static UnixFs.Meta meta(Cid cid, DagPb.Decoded node, boolean root) throws IpfsException {
        UnixFs.Meta meta;
        try {
            meta = UnixFs.parse(node.data());
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, cid + " is not a UnixFS node: " + e.getMessage(), e);
        }
        if (!meta.isFile()) {
            throw new IpfsException(IpfsException.Kind.FAILED, (root ? "" : "child ") + cid + " is not a file"
                    + (meta.isDirectory() ? " (it is a directory)" : " (UnixFS type " + meta.type() + ")"));
        }
        return meta;
    }

    /** Loads the next block with content into the buffer; false at the end of the file. */
    private boolean advance() throws IOException {
        while (!stack.isEmpty()) {
            Frame frame = stack.peek();
            if (frame.next >= frame.links.size()) {
                stack.pop();
                continue;
            }
            Cid cid = frame.links.get(frame.next++).cid();
            byte[] block = source.get(cid);
            if (cid.codec() == Cid.RAW) {
                buffer = block;
                position = 0;
                return true;
            }
            DagPb.Decoded node = decode(cid, block);
            UnixFs.Meta meta = meta(cid, node, false);
            stack.push(new Frame(node.links(), 0));
            if (meta.data().length > 0) {
                buffer = meta.data();
                position = 0;
                return true;
            }
        }
        return false;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        if (remaining <= 0) {
            return -1;
        }
        while (position >= buffer.length) {
            if (!advance()) {
                remaining = 0;
                return -1;
            }
        }
        int n = (int) Math.min(Math.min(len, buffer.length - position), remaining);
        System.arraycopy(buffer, position, b, off, n);
        position += n;
        remaining -= n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = 0;
        byte[] scratch = new byte[8192];
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public void close() {
        closed = true;
        stack.clear();
        buffer = new byte[0];
    }

    private static final class Frame {
        final List<DagPb.Link> links;
        int next;

        Frame(List<DagPb.Link> links, int next) {
            this.links = links;
            this.next = next;
        }
    }
}
