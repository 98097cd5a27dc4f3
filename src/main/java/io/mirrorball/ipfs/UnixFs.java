package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * UnixFS v1 on dag-pb, encoded as Kubo encodes it. A basic directory is a dag-pb node whose Data is
 * {@code {Type: Directory}} (bytes {@code 08 01}) and whose links are the entries sorted by the
 * bytes of their UTF-8 names; each link's Tsize is the cumulative size of the entry. A directory
 * that Kubo would shard (see {@link DirectoryParams}) is a HAMT ({@link Hamt}). Kubo's MFS and
 * {@code ipfs add -r} produce exactly these bytes for the same entries and parameters.
 */
public final class UnixFs {
    static final int TYPE_RAW = 0;
    static final int TYPE_DIRECTORY = 1;
    static final int TYPE_FILE = 2;
    static final int TYPE_METADATA = 3;
    static final int TYPE_SYMLINK = 4;
    public static final int TYPE_HAMT_SHARD = 5;

    private static final byte[] DIRECTORY_DATA = {0x08, 0x01};
    private static final Comparator<byte[]> UNSIGNED = Arrays::compareUnsigned;

    private UnixFs() {
    }

    /**
     * The blocks of a directory: one basic directory block, or the shards of a HAMT.
     *
     * @param blocks every block of the directory node itself, children before parents; the root is last
     */
    public record Directory(List<byte[]> blocks) {
        public Directory {
            blocks = List.copyOf(blocks);
            if (blocks.isEmpty()) {
                throw new IllegalArgumentException("a directory has at least its root block");
            }
        }

        /** The root block (the only one of a basic directory). */
        public byte[] root() {
            return blocks.get(blocks.size() - 1);
        }

        public Cid cid() {
            return cidOf(root());
        }

        /** Tsize of a link to this directory: its root's length plus the Tsize of the root's links. */
        public long cumulativeSize() {
            return UnixFs.cumulativeSize(root());
        }

        public boolean sharded() {
            return parse(DagPb.decode(root()).data()).type() == TYPE_HAMT_SHARD;
        }
    }

    /**
     * The directory of these entries as Kubo builds it with {@code params}: a basic directory (links
     * sorted by name), or a HAMT when Kubo would shard it.
     *
     * @throws IllegalArgumentException for an empty, duplicate or slash-containing name
     */
    public static Directory directory(List<DagPb.Link> links, DirectoryParams params) {
        if (!shards(links, params)) {
            return new Directory(List.of(directoryBlock(DIRECTORY_DATA, links)));
        }
        checkNames(links);
        List<byte[]> blocks = new ArrayList<>();
        Hamt.build(links, params.fanout(), blocks);
        return new Directory(blocks);
    }

    /** True when Kubo makes a directory with these entries a HAMT (boxo's {@code needsToSwitchToHAMTDir}). */
    static boolean shards(List<DagPb.Link> links, DirectoryParams params) {
        if (params.threshold() == 0) {
            return false;
        }
        if (params.maxLinks() > 0 && links.size() > params.maxLinks()) {
            return true;
        }
        return switch (params.sizeEstimation()) {
            case DISABLED -> false;
            case LINKS -> {
                long estimate = 0;
                for (DagPb.Link link : links) {
                    estimate += link.name().getBytes(StandardCharsets.UTF_8).length + link.cid().bytes().length;
                }
                yield estimate > params.threshold();
            }
            case BLOCK -> {
                long estimate = DIRECTORY_DATA.length + 2;
                for (DagPb.Link link : links) {
                    estimate += DagPb.linkSize(link);
                }
                yield estimate > params.threshold();
            }
        };
    }

    /**
     * The dag-pb block of a basic UnixFS directory with these entries, sorted by name as Kubo does.
     *
     * @throws IllegalArgumentException for an empty, duplicate or slash-containing name, or a
     *                                  directory that Kubo would shard with its default parameters
     *                                  (use {@link #directory})
     */
    public static byte[] directoryBlock(List<DagPb.Link> links) {
        if (shards(links, DirectoryParams.KUBO_DEFAULTS)) {
            throw new IllegalArgumentException("directory of " + links.size()
                    + " entries would be a HAMT-sharded directory in Kubo: not a basic directory");
        }
        return directoryBlock(DIRECTORY_DATA, links);
    }

    /**
     * The blocks of a small in-memory file as {@code add} builds them with {@link ImportParams#FIXED}:
     * raw leaves of 262,144 bytes and, for more than one, a dag-pb file node linking them.
     *
     * @param leaves the raw leaf blocks, in order
     * @param node   the file node, or null when the file is its one raw leaf
     */
    public record FileBlocks(List<byte[]> leaves, byte[] node) {
        public FileBlocks {
            leaves = List.copyOf(leaves);
        }

        public Cid cid() {
            return node == null ? Cid.sha256(Cid.RAW, sha256(leaves.get(0))) : cidOf(node);
        }

        /** Tsize of a link to the file. */
        public long cumulativeSize() {
            return node == null ? leaves.get(0).length : UnixFs.cumulativeSize(node);
        }
    }

    /**
     * A file of at most 174 chunks (about 43 MiB), held in memory: a manifest or disco.json.
     *
     * @throws IllegalArgumentException for a larger file
     */
    public static FileBlocks smallFile(byte[] content) {
        int chunk = ImportParams.FIXED.chunkSize();
        if (content.length <= chunk) {
            return new FileBlocks(List.of(content), null);
        }
        int count = (content.length + chunk - 1) / chunk;
        if (count > ImportParams.FIXED.maxLinks()) {
            throw new IllegalArgumentException("a file of " + content.length + " bytes is not a small file");
        }
        List<byte[]> leaves = new ArrayList<>(count);
        List<DagPb.Link> links = new ArrayList<>(count);
        long[] sizes = new long[count];
        for (int i = 0; i < count; i++) {
            byte[] leaf = Arrays.copyOfRange(content, i * chunk, Math.min(content.length, (i + 1) * chunk));
            leaves.add(leaf);
            sizes[i] = leaf.length;
            links.add(new DagPb.Link("", Cid.sha256(Cid.RAW, sha256(leaf)), leaf.length));
        }
        return new FileBlocks(leaves, DagPb.encodeNode(fileData(sizes, count), links));
    }

    /** The block of an empty directory ({@code bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354}). */
    public static byte[] emptyDirectoryBlock() {
        return DagPb.encodeNode(DIRECTORY_DATA, List.of());
    }

    /** The CIDv1 (dag-pb, sha2-256) of a dag-pb block. */
    public static Cid cidOf(byte[] dagPbBlock) {
        return Cid.sha256(Cid.DAG_PB, sha256(dagPbBlock));
    }

    /**
     * A link to a dag-pb block (a directory or file node) under {@code name}, with Tsize as Kubo
     * computes it: the block's length plus the Tsize of each of its links.
     */
    public static DagPb.Link linkTo(String name, byte[] dagPbBlock) {
        return new DagPb.Link(name, cidOf(dagPbBlock), cumulativeSize(dagPbBlock));
    }

    /** The block's length plus the Tsize of each of its links (Kubo's node size). */
    public static long cumulativeSize(byte[] dagPbBlock) {
        return dagPbBlock.length + DagPb.decode(dagPbBlock).linkedSize();
    }

    /** A directory block with the given Data bytes (kept from an existing directory), links sorted by name. */
    public static byte[] directoryBlock(byte[] data, List<DagPb.Link> links) {
        List<DagPb.Link> sorted = new ArrayList<>(links);
        sorted.sort((a, b) -> UNSIGNED.compare(a.name().getBytes(StandardCharsets.UTF_8),
                b.name().getBytes(StandardCharsets.UTF_8)));
        checkNames(sorted);
        return DagPb.encodeNode(data, sorted);
    }

    /** True for a basic directory's plain Data ({@code {Type: Directory}}, no mode or mtime). */
    public static boolean isPlainDirectoryData(byte[] data) {
        return Arrays.equals(DIRECTORY_DATA, data);
    }

    /** Checks every name, and that no two are the same. */
    private static void checkNames(List<DagPb.Link> links) {
        java.util.Set<String> seen = new java.util.HashSet<>(links.size() * 2);
        for (DagPb.Link link : links) {
            checkName(link.name());
            if (!seen.add(link.name())) {
                throw new IllegalArgumentException("duplicate directory entry name: " + link.name());
            }
        }
    }

    static void checkName(String name) {
        if (name.isEmpty() || name.indexOf('/') >= 0 || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid directory entry name: '" + name + "'");
        }
    }

    /** The Data of a file node whose children hold these numbers of content bytes. */
    public static byte[] fileData(long[] blockSizes, int count) {
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += blockSizes[i];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(8 + count * 4);
        out.write(0x08);
        out.write(TYPE_FILE);
        out.write(0x18);
        Varint.write(out, total);
        for (int i = 0; i < count; i++) {
            out.write(0x20);
            Varint.write(out, blockSizes[i]);
        }
        return out.toByteArray();
    }

    public static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The parsed UnixFS Data field of a dag-pb node.
     *
     * @param type       0 raw, 1 directory, 2 file, 3 metadata, 4 symlink, 5 HAMT shard
     * @param data       inline content (empty when absent)
     * @param fileSize   the filesize field, or -1 when absent
     * @param blockSizes content bytes under each link
     * @param hashType   the hash function of a HAMT shard's names, or -1 when absent
     * @param fanout     the slots of a HAMT shard, or -1 when absent
     */
    public record Meta(int type, byte[] data, long fileSize, long[] blockSizes, long hashType, long fanout) {
        public boolean isDirectory() {
            return type == TYPE_DIRECTORY || type == TYPE_HAMT_SHARD;
        }

        boolean isFile() {
            return type == TYPE_FILE || type == TYPE_RAW;
        }

        /** Content bytes of a file node: filesize, or inline data plus blocksizes when filesize is absent. */
        public long contentSize() {
            if (fileSize >= 0) {
                return fileSize;
            }
            long total = data.length;
            for (long size : blockSizes) {
                total += size;
            }
            return total;
        }
    }

    /**
     * Parses a UnixFS Data field.
     *
     * @throws IllegalArgumentException when it is not one
     */
    public static Meta parse(byte[] unixfsData) {
        if (unixfsData == null) {
            throw new IllegalArgumentException("dag-pb node without a UnixFS Data field");
        }
        int[] pos = {0};
        int type = -1;
        byte[] data = new byte[0];
        long fileSize = -1;
        long[] sizes = new long[8];
        int count = 0;
        long hashType = -1;
        long fanout = -1;
        while (pos[0] < unixfsData.length) {
            long key = Varint.read(unixfsData, pos);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 0) {
                type = (int) Varint.read(unixfsData, pos);
            } else if (field == 2 && wire == 2) {
                data = DagPb.lengthDelimited(unixfsData, pos);
            } else if (field == 3 && wire == 0) {
                fileSize = Varint.read(unixfsData, pos);
            } else if (field == 4 && wire == 0) {
                if (count == sizes.length) {
                    sizes = Arrays.copyOf(sizes, count * 2);
                }
                sizes[count++] = Varint.read(unixfsData, pos);
            } else if (field == 4 && wire == 2) {
                byte[] packed = DagPb.lengthDelimited(unixfsData, pos);
                int[] p = {0};
                while (p[0] < packed.length) {
                    if (count == sizes.length) {
                        sizes = Arrays.copyOf(sizes, count * 2);
                    }
                    sizes[count++] = Varint.read(packed, p);
                }
            } else if (field == 5 && wire == 0) {
                hashType = Varint.read(unixfsData, pos);
            } else if (field == 6 && wire == 0) {
                fanout = Varint.read(unixfsData, pos);
            } else if (wire == 0) {
                Varint.read(unixfsData, pos);
            } else if (wire == 2) {
                DagPb.lengthDelimited(unixfsData, pos);
            } else if (wire == 5) {
                pos[0] += 4;
            } else if (wire == 1) {
                pos[0] += 8;
            } else {
                throw new IllegalArgumentException("UnixFS: unsupported wire type " + wire);
            }
        }
        if (type < 0 || type > TYPE_HAMT_SHARD) {
            throw new IllegalArgumentException("UnixFS: missing or unknown Type " + type);
        }
        if (pos[0] != unixfsData.length) {
            throw new IllegalArgumentException("UnixFS: truncated Data");
        }
        // uint64 in the protobuf: values past Long.MAX_VALUE read as negative, and would seek backwards
        if (fileSize < -1 || Arrays.stream(sizes, 0, count).anyMatch(size -> size < 0)) {
            throw new IllegalArgumentException("UnixFS: filesize or blocksize out of range");
        }
        return new Meta(type, data, fileSize, Arrays.copyOf(sizes, count), hashType, fanout);
    }
}
