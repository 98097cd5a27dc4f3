package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

final class RepackCommandTest {
    private static final int CHUNK = 262144;

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine commandLine = Main.commandLine(Map.of());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void repack_ofDirectoryWithoutStore_exitsTwo() {
        assertEquals(2, run("repack", "--path", tmp.toString()));
        assertTrue(err.toString().contains("not an embedded IPFS store"), err.toString());
    }

    @Test
    void repack_ofOlderLayout_convertsAndPrintsTheReport() throws IOException {
        Path store = tmp.resolve("node");
        byte[] content = new byte[3 * CHUNK + 10];
        new Random(7).nextBytes(content);
        Cid cid;
        try (EmbeddedNode node = EmbeddedNode.open(store)) {
            cid = node.add(new java.io.ByteArrayInputStream(content)).cid();
            node.filesCp("/ipfs/" + cid, "/file");
        }
        toOlderLayout(store);

        assertEquals(0, run("repack", "--path", store.toString()), err.toString());

        assertTrue(out.toString().contains("1 files converted to blob files, 4 block files moved ("
                + content.length + " bytes)"), out.toString());
        assertTrue(Files.exists(store.resolve("blobs").resolve(HexFormat.of().formatHex(cid.sha256Digest()) + ".idx")));
        try (EmbeddedNode node = EmbeddedNode.open(store); InputStream in = node.filesRead("/file", 0, -1)) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    /** Writes every leaf of every blob file as a block file {@code blocks/xx/<hex>}, then removes the blob files. */
    private static void toOlderLayout(Path store) throws IOException {
        try (DirectoryStream<Path> indexes = Files.newDirectoryStream(store.resolve("blobs"), "*.idx")) {
            for (Path index : indexes) {
                byte[] sidecar = Files.readAllBytes(index);
                int leaves = (sidecar.length - 32) / 32;
                String name = index.getFileName().toString();
                Path data = index.resolveSibling(name.substring(0, name.length() - 4) + ".data");
                byte[] bytes = Files.readAllBytes(data);
                for (int leaf = 0; leaf < leaves; leaf++) {
                    String hex = HexFormat.of().formatHex(Arrays.copyOfRange(sidecar, leaf * 32, leaf * 32 + 32));
                    Path file = store.resolve("blocks").resolve(hex.substring(0, 2)).resolve(hex);
                    Files.createDirectories(file.getParent());
                    Files.write(file, Arrays.copyOfRange(bytes, leaf * CHUNK, Math.min(bytes.length, (leaf + 1) * CHUNK)));
                }
                Files.delete(index);
                Files.delete(data);
            }
        }
        Files.delete(store.resolve("blobs").resolve(".repacked-v1"));
        assertFalse(Files.exists(store.resolve("blobs").resolve(".repacked-v1")));
    }
}
