package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded node's MFS reads, traverses and writes HAMT-sharded directories as Kubo's MFS does. */
final class EmbeddedNodeHamtTest {
    private static final DirectoryParams SMALL = new DirectoryParams(2_000, 16, DirectoryParams.SizeEstimation.LINKS, 0);

    @TempDir
    Path dir;

    private EmbeddedNode node;

    @AfterEach
    void close() throws IOException {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void filesCp_shardedImageDirectoryFromIpfs_readsStatsAndListsEveryEntry() throws IOException {
        node = EmbeddedNode.open(dir.resolve("node"));
        Map<String, byte[]> files = files(3_000);
        UnixFs.Directory blobs = putDirectory(files, DirectoryParams.KUBO_DEFAULTS);
        assertTrue(blobs.sharded());

        node.filesCp("/ipfs/" + blobs.cid(), "/image/blobs");

        IpfsNode.FileStat stat = node.filesStat("/image/blobs").orElseThrow();
        assertEquals(blobs.cid(), stat.cid());
        assertTrue(stat.directory());
        for (String name : List.of(first(files), hexName(1234), hexName(2999))) {
            byte[] content = files.get(name);
            assertEquals(rawCid(content), node.filesStat("/image/blobs/" + name).orElseThrow().cid(), name);
            try (InputStream in = node.filesRead("/image/blobs/" + name, 0, -1)) {
                assertArrayEquals(content, in.readAllBytes(), name);
            }
            try (InputStream in = node.cat(blobs.cid() + "/" + name, 0, -1)) {
                assertArrayEquals(content, in.readAllBytes(), name);
            }
        }
        assertTrue(node.filesStat("/image/blobs/" + hexName(3000)).isEmpty());
        List<IpfsNode.FileEntry> listed = node.filesLs("/image/blobs");
        assertEquals(files.keySet().stream().sorted().toList(), listed.stream().map(IpfsNode.FileEntry::name).toList());
        assertEquals(files.get(listed.get(7).name()).length, listed.get(7).size());
    }

    @Test
    void filesWriteAndRm_inShardedDirectory_giveTheEncodersDirectoryAndSurviveReopen() throws IOException {
        node = EmbeddedNode.open(dir.resolve("node"));
        Map<String, byte[]> files = files(3_000);
        UnixFs.Directory blobs = putDirectory(files, DirectoryParams.KUBO_DEFAULTS);
        node.filesCp("/ipfs/" + blobs.cid(), "/image/blobs");

        byte[] added = "a new blob".getBytes(StandardCharsets.UTF_8);
        node.filesWrite("/image/blobs/" + hexName(5000), added);
        files.put(hexName(5000), added);
        node.filesRm("/image/blobs/" + hexName(17));
        files.remove(hexName(17));

        UnixFs.Directory expected = UnixFs.directory(links(files), DirectoryParams.KUBO_DEFAULTS);
        assertEquals(expected.cid(), node.filesStat("/image/blobs").orElseThrow().cid());
        node.close();
        node = EmbeddedNode.open(dir.resolve("node"));
        assertEquals(expected.cid(), node.filesStat("/image/blobs").orElseThrow().cid());
        try (InputStream in = node.filesRead("/image/blobs/" + hexName(5000), 0, -1)) {
            assertArrayEquals(added, in.readAllBytes());
        }
        assertEquals(3_000, node.filesLs("/image/blobs").size());
    }

    /** Kubo's MFS shards a directory once it grows past the threshold and makes it basic again below it. */
    @Test
    void filesWrite_directoryGrowsPastThresholdAndShrinks_shardsAndUnshardsAsKubo() throws IOException {
        node = EmbeddedNode.open(dir.resolve("node"), SMALL);
        node.filesMkdir("/repositories/r");
        Map<String, byte[]> files = new LinkedHashMap<>();
        boolean sharded = false;
        for (int i = 0; i < 30; i++) {
            byte[] content = ("link " + i).getBytes(StandardCharsets.UTF_8);
            node.filesWrite("/repositories/r/" + hexName(i), content);
            files.put(hexName(i), content);
            UnixFs.Directory expected = UnixFs.directory(links(files), SMALL);
            assertEquals(expected.cid(), node.filesStat("/repositories/r").orElseThrow().cid(), i + " entries");
            sharded |= expected.sharded();
        }
        assertTrue(sharded, "30 entries of 100 bytes are over 2,000 bytes");
        for (int i = 0; i < 25; i++) {
            node.filesRm("/repositories/r/" + hexName(i));
            files.remove(hexName(i));
            assertEquals(UnixFs.directory(links(files), SMALL).cid(),
                    node.filesStat("/repositories/r").orElseThrow().cid(), "after removing " + (i + 1));
        }
        assertFalse(UnixFs.directory(links(files), SMALL).sharded());
        node.filesMv("/repositories/r/" + hexName(29), "/moved");
        assertEquals(5 - 1, node.filesLs("/repositories/r").size());
    }

    /** Regression: disco.json of an image of about 1,800 blobs or more was one raw block, not the add CID. */
    @Test
    void smallFile_overOneChunk_isWhatAddGives() throws IOException {
        node = EmbeddedNode.open(dir.resolve("node"));
        for (int size : new int[]{1, 262_144, 262_145, 600_000}) {
            byte[] content = new byte[size];
            new java.util.Random(size).nextBytes(content);
            UnixFs.FileBlocks file = UnixFs.smallFile(content);
            IpfsNode.Added added = node.add(new java.io.ByteArrayInputStream(content));
            assertEquals(added.cid(), file.cid(), size + " bytes");
            long tsize = added.cid().codec() == Cid.RAW ? size : UnixFs.cumulativeSize(node.blockGet(added.cid()));
            assertEquals(tsize, file.cumulativeSize(), size + " bytes");
        }
    }

    private UnixFs.Directory putDirectory(Map<String, byte[]> files, DirectoryParams params) throws IOException {
        for (byte[] content : files.values()) {
            node.blockPut(content, Cid.RAW);
        }
        UnixFs.Directory directory = UnixFs.directory(links(files), params);
        for (byte[] block : directory.blocks()) {
            node.blockPut(block, Cid.DAG_PB);
        }
        return directory;
    }

    private static Map<String, byte[]> files(int count) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            files.put(hexName(i), ("blob " + i).getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    private static List<DagPb.Link> links(Map<String, byte[]> files) {
        List<DagPb.Link> links = new ArrayList<>();
        files.forEach((name, content) -> links.add(new DagPb.Link(name, rawCid(content), content.length)));
        return links;
    }

    private static Cid rawCid(byte[] content) {
        return Cid.sha256(Cid.RAW, UnixFs.sha256(content));
    }

    private static String hexName(int i) {
        return Digest.ofBytes(Integer.toString(i).getBytes(StandardCharsets.UTF_8)).hex();
    }

    private static String first(Map<String, byte[]> files) {
        return files.keySet().iterator().next();
    }
}
