package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The dag-pb codec (0x70), byte for byte as Kubo (go-codec-dagpb) and js-ipfs (@ipld/dag-pb) write it:
 * the links first (field 2, each with Hash, Name and Tsize, in the order given), then the Data field
 * (field 1) when there is one. A link's Name and Tsize are always written, even when empty or 0, as
 * both implementations do for UnixFS nodes.
 */
public final class DagPb {
    private DagPb() {
    }

    /**
     * One link of a dag-pb node.
     *
     * @param name link name (empty for the links of a file node)
     * @param cid  the target
     * @param size Tsize: the cumulative size of every block under the target (the target's block included)
     */
    public record Link(String name, Cid cid, long size) {
        public Link {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(cid, "cid");
            if (size < 0) {
                throw new IllegalArgumentException("link size must not be negative: " + size);
            }
        }
    }

    /**
     * A decoded node.
     *
     * @param data  the Data field, or null when the node has none
     * @param links the links in block order
     */
    public record Decoded(byte[] data, List<Link> links) {
        public Decoded {
            links = List.copyOf(links);
        }

        /** Sum of the links' Tsize values. */
        public long linkedSize() {
            long sum = 0;
            for (Link link : links) {
                sum += link.size();
            }
            return sum;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Decoded other && Arrays.equals(data, other.data) && links.equals(other.links);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data) * 31 + links.hashCode();
        }

        @Override
        public String toString() {
            return "Decoded[data=" + (data == null ? "none" : data.length + " bytes") + ", links=" + links + "]";
        }
    }

    /**
     * Encodes a node. The links are written in the order given (UnixFS directories sort them by
     * name: see {@link UnixFs#directoryBlock}).
     *
     * @param data the Data field, or null for none
     */
    public static byte[] encodeNode(byte[] data, List<Link> links) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + links.size() * 48 + (data == null ? 0 : data.length));
        for (Link link : links) {
            byte[] hash = link.cid().bytes();
            byte[] name = link.name().getBytes(StandardCharsets.UTF_8);
            int inner = innerLinkSize(hash.length, name.length, link.size());
            out.write(0x12);
            Varint.write(out, inner);
            out.write(0x0a);
            Varint.write(out, hash.length);
            out.writeBytes(hash);
            out.write(0x12);
            Varint.write(out, name.length);
            out.writeBytes(name);
            out.write(0x18);
            Varint.write(out, link.size());
        }
        if (data != null) {
            out.write(0x0a);
            Varint.write(out, data.length);
            out.writeBytes(data);
        }
        return out.toByteArray();
    }

    /** The bytes a link adds to an encoded node (boxo's {@code linkSerializedSize}). */
    static int linkSize(Link link) {
        int inner = innerLinkSize(link.cid().bytes().length, link.name().getBytes(StandardCharsets.UTF_8).length,
                link.size());
        return 1 + Varint.size(inner) + inner;
    }

    private static int innerLinkSize(int hashLength, int nameLength, long tsize) {
        return 1 + Varint.size(hashLength) + hashLength + 1 + Varint.size(nameLength) + nameLength
                + 1 + Varint.size(tsize);
    }

    /** Decodes the dag-pb block of {@code cid}; bytes that are not dag-pb are a corrupt block. */
    public static Decoded decode(Cid cid, byte[] block) throws IpfsException {
        try {
            return decode(block);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " is not dag-pb: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes a dag-pb block.
     *
     * @throws IllegalArgumentException when the bytes are not dag-pb
     */
    public static Decoded decode(byte[] block) {
        int[] pos = {0};
        byte[] data = null;
        List<Link> links = new ArrayList<>();
        while (pos[0] < block.length) {
            long key = Varint.read(block, pos);
            if (key == 0x12) {
                if (data != null) {
                    throw new IllegalArgumentException("dag-pb: a link after the Data field");
                }
                byte[] linkBytes = lengthDelimited(block, pos);
                links.add(decodeLink(linkBytes));
            } else if (key == 0x0a) {
                if (data != null) {
                    throw new IllegalArgumentException("dag-pb: two Data fields");
                }
                data = lengthDelimited(block, pos);
            } else {
                throw new IllegalArgumentException("dag-pb: unexpected field key " + key);
            }
        }
        return new Decoded(data, links);
    }

    private static Link decodeLink(byte[] bytes) {
        int[] pos = {0};
        Cid cid = null;
        String name = null;
        Long size = null;
        while (pos[0] < bytes.length) {
            long key = Varint.read(bytes, pos);
            if (key == 0x0a && cid == null && name == null && size == null) {
                cid = Cid.fromBytes(lengthDelimited(bytes, pos));
            } else if (key == 0x12 && name == null && size == null) {
                name = new String(lengthDelimited(bytes, pos), StandardCharsets.UTF_8);
            } else if (key == 0x18 && size == null) {
                size = Varint.read(bytes, pos);
            } else {
                throw new IllegalArgumentException("dag-pb: unexpected or repeated link field key " + key);
            }
        }
        if (cid == null) {
            throw new IllegalArgumentException("dag-pb: a link without Hash");
        }
        return new Link(name == null ? "" : name, cid, size == null ? 0 : size);
    }

    public static byte[] lengthDelimited(byte[] bytes, int[] pos) {
        long length = Varint.read(bytes, pos);
        if (length < 0 || length > bytes.length - pos[0]) {
            throw new IllegalArgumentException("truncated field: " + length + " bytes at " + pos[0]);
        }
        byte[] value = Arrays.copyOfRange(bytes, pos[0], pos[0] + (int) length);
        pos[0] += (int) length;
        return value;
    }
}
