package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.KuboOffline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mirrorball's directory encoder ({@link UnixFs#directory}) gives the CID of {@code ipfs add -r} on
 * Kubo with the same explicit {@code Import} settings, below, at and above the HAMT threshold. Runs
 * the Kubo binary of {@code -Dmirrorball.kubo} offline.
 */
final class HamtCidEqualityTest {
    /** A blob entry of an image directory: 64 hex digits (64 bytes) and a raw CID (36 bytes). */
    private static final int ENTRY_ESTIMATE = 100;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} entries")
    @ValueSource(ints = {1000, 2621, 2622, 3000, 10_000})
    void directory_blobEntriesAroundKubosDefaultThreshold_sameCidAsKubo(int entries) throws IOException {
        Path tree = dir.resolve("blobs");
        Files.createDirectories(tree);
        for (int i = 0; i < entries; i++) {
            write(tree.resolve(hexName(i)), i);
        }

        UnixFs.Directory mine = encode(tree, DirectoryParams.KUBO_DEFAULTS);

        assertEquals(entries * ENTRY_ESTIMATE > 262_144, mine.sharded(), "sharded");
        assertEquals(KuboOffline.init(dir, DirectoryParams.KUBO_DEFAULTS).add(tree), mine.cid());
    }

    /** Kubo shards when the estimate exceeds the threshold: a directory exactly at it stays basic. */
    @ParameterizedTest(name = "last name of {0} bytes")
    @ValueSource(ints = {8, 9})
    void directory_estimateExactlyAtAndJustOverThreshold_sameCidAsKubo(int lastNameLength) throws IOException {
        Path tree = dir.resolve("blobs");
        Files.createDirectories(tree);
        for (int i = 0; i < 2621; i++) {
            write(tree.resolve(hexName(i)), i);
        }
        write(tree.resolve("x".repeat(lastNameLength)), -1);

        UnixFs.Directory mine = encode(tree, DirectoryParams.KUBO_DEFAULTS);

        assertEquals(lastNameLength == 9, mine.sharded(), "sharded");
        assertEquals(KuboOffline.init(dir, DirectoryParams.KUBO_DEFAULTS).add(tree), mine.cid());
    }

    @Test
    void directory_nonDefaultParameters_sameCidAsKubo() throws IOException {
        Path tree = dir.resolve("tree");
        Files.createDirectories(tree);
        for (int i = 0; i < 700; i++) {
            write(tree.resolve("sha256:" + hexName(i)), i);
        }
        write(tree.resolve("\u00e9t\u00e9 \ud83d\ude00"), 7);
        List<DirectoryParams> variants = List.of(
                new DirectoryParams(2_000, 16, DirectoryParams.SizeEstimation.LINKS, 0),
                new DirectoryParams(20_000, 8, DirectoryParams.SizeEstimation.LINKS, 0),
                new DirectoryParams(20_000, 1024, DirectoryParams.SizeEstimation.LINKS, 0),
                new DirectoryParams(80_000, 256, DirectoryParams.SizeEstimation.BLOCK, 0),
                new DirectoryParams(90_000, 64, DirectoryParams.SizeEstimation.BLOCK, 0),
                new DirectoryParams(262_144, 32, DirectoryParams.SizeEstimation.DISABLED, 500),
                new DirectoryParams(262_144, 256, DirectoryParams.SizeEstimation.LINKS, 600),
                new DirectoryParams(1_000, 256, DirectoryParams.SizeEstimation.LINKS, 0),
                new DirectoryParams(0, 256, DirectoryParams.SizeEstimation.LINKS, 0));
        for (int v = 0; v < variants.size(); v++) {
            DirectoryParams params = variants.get(v);
            KuboOffline kubo = KuboOffline.init(Files.createDirectories(dir.resolve("kubo" + v)), params);

            assertEquals(kubo.add(tree), encode(tree, params).cid(), params.toString());
        }
    }

    /** Sharded directories inside sharded directories, and directories as HAMT entries (cumulative Tsize). */
    @Test
    void directory_nestedShardsAndSubdirectories_sameCidAsKubo() throws IOException {
        DirectoryParams params = new DirectoryParams(2_000, 32, DirectoryParams.SizeEstimation.LINKS, 0);
        Path tree = dir.resolve("image");
        for (int d = 0; d < 40; d++) {
            Path sub = Files.createDirectories(tree.resolve("repo-" + d));
            for (int i = 0; i < d * 3 + 1; i++) {
                write(sub.resolve(hexName(d * 1000 + i)), d * 1000 + i);
            }
        }
        for (int i = 0; i < 30; i++) {
            write(tree.resolve("f" + i), i);
        }

        UnixFs.Directory mine = encode(tree, params);

        assertEquals(true, mine.sharded());
        assertEquals(KuboOffline.init(dir, params).add(tree), mine.cid());
    }

    /** The embedded MFS shards a directory past the threshold and unshards it below, with Kubo's MFS CIDs. */
    @Test
    void filesCpAndRm_directoryGrowsPastThresholdAndShrinks_sameMfsCidAsKubo() throws IOException {
        DirectoryParams params = new DirectoryParams(2_000, 16, DirectoryParams.SizeEstimation.LINKS, 0);
        KuboOffline kubo = KuboOffline.init(dir, params);
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"), params)) {
            kubo.run("files", "mkdir", "--cid-version=1", "/d");
            node.filesMkdir("/d");
            boolean sharded = false;
            for (int i = 0; i < 30; i++) {
                Path file = dir.resolve("link" + i);
                write(file, i);
                Cid cid = kubo.add(file);
                assertEquals(cid, node.blockPut(Files.readAllBytes(file), Cid.RAW));
                kubo.run("files", "cp", "/ipfs/" + cid, "/d/" + hexName(i));
                node.filesCp("/ipfs/" + cid, "/d/" + hexName(i));
                Cid mine = node.filesStat("/d").orElseThrow().cid();
                assertEquals(Cid.parse(kubo.run("files", "stat", "--hash", "/d").strip()), mine, "after adding " + i);
                sharded |= UnixFs.parse(DagPb.decode(node.blockGet(mine)).data()).type() == UnixFs.TYPE_HAMT_SHARD;
            }
            assertEquals(true, sharded, "30 entries of 100 bytes are over 2,000 bytes");
            for (int i = 0; i < 25; i++) {
                kubo.run("files", "rm", "/d/" + hexName(i));
                node.filesRm("/d/" + hexName(i));
                assertEquals(Cid.parse(kubo.run("files", "stat", "--hash", "/d").strip()),
                        node.filesStat("/d").orElseThrow().cid(), "after removing " + i);
            }
        }
    }

    private static String hexName(int i) {
        return Digest.ofBytes(Integer.toString(i).getBytes(StandardCharsets.UTF_8)).hex();
    }

    private static void write(Path file, int i) throws IOException {
        Files.writeString(file, "content " + i);
    }

    /** Encodes a tree of small files as mirrorball does, with raw leaves. */
    private static UnixFs.Directory encode(Path tree, DirectoryParams params) throws IOException {
        List<DagPb.Link> links = new ArrayList<>();
        try (Stream<Path> children = Files.list(tree)) {
            for (Path child : children.toList()) {
                String name = child.getFileName().toString();
                if (Files.isDirectory(child)) {
                    UnixFs.Directory sub = encode(child, params);
                    links.add(new DagPb.Link(name, sub.cid(), sub.cumulativeSize()));
                } else {
                    byte[] content = Files.readAllBytes(child);
                    links.add(new DagPb.Link(name, Cid.sha256(Cid.RAW, UnixFs.sha256(content)), content.length));
                }
            }
        }
        return UnixFs.directory(links, params);
    }
}
