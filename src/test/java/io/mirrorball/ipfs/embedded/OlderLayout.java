package io.mirrorball.ipfs.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Turns a closed embedded node's data directory into the layout of the version before blob files,
 * where every leaf is a block file {@code blocks/xx/<hex>}: each blob file's leaves are written as
 * block files, then the blob file is removed (or kept, to stand for a repack cut short).
 */
final class OlderLayout {
    private static final HexFormat HEX = HexFormat.of();

    private OlderLayout() {
    }

    /** Converts every blob file of the node in {@code node}, and removes the repack marker. */
    static void convertAll(Path node) throws IOException {
        for (Path index : indexes(node)) {
            writeLeaves(node, index, Integer.MAX_VALUE);
            removeBlobFile(index);
        }
        Files.deleteIfExists(node.resolve("blobs").resolve(EmbeddedNode.REPACKED_MARKER));
    }

    /** The index files in {@code blobs/}, sorted. */
    static List<Path> indexes(Path node) throws IOException {
        List<Path> indexes = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(node.resolve("blobs"), "*.idx")) {
            files.forEach(indexes::add);
        }
        indexes.sort(null);
        return indexes;
    }

    /** The leaf digests a blob file's index lists. */
    static List<byte[]> leafDigests(Path index) throws IOException {
        byte[] digests = BlobFiles.Sidecar.read(index).digests();
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < digests.length; i += 32) {
            out.add(java.util.Arrays.copyOfRange(digests, i, i + 32));
        }
        return out;
    }

    /** Writes the first {@code count} leaves of the blob file as block files; returns their digests. */
    static List<byte[]> writeLeaves(Path node, Path index, int count) throws IOException {
        BlobFiles.Sidecar sidecar = BlobFiles.Sidecar.read(index);
        List<byte[]> digests = leafDigests(index);
        List<byte[]> written = new ArrayList<>();
        Path data = dataOf(index);
        try (InputStream in = Files.newInputStream(data)) {
            for (int leaf = 0; leaf < digests.size() && leaf < count; leaf++) {
                long start = (long) leaf * Importer.CHUNK;
                int length = (int) Math.min(Importer.CHUNK, sidecar.length() - start);
                byte[] bytes = in.readNBytes(length);
                byte[] digest = digests.get(leaf);
                if (!MessageDigest.isEqual(BlobFiles.newSha256().digest(bytes), digest)) {
                    throw new IOException("leaf " + leaf + " of " + data + " does not match its digest");
                }
                Path file = blockFile(node, digest);
                Files.createDirectories(file.getParent());
                Files.write(file, bytes);
                written.add(digest);
            }
        }
        return written;
    }

    /** Deletes a blob file: index and data. */
    static void removeBlobFile(Path index) throws IOException {
        Files.delete(index);
        Files.delete(dataOf(index));
    }

    static Path dataOf(Path index) {
        String name = index.getFileName().toString();
        return index.resolveSibling(name.substring(0, name.length() - ".idx".length()) + ".data");
    }

    static Path blockFile(Path node, byte[] digest) {
        String hex = HEX.formatHex(digest);
        return node.resolve("blocks").resolve(hex.substring(0, 2)).resolve(hex);
    }
}
