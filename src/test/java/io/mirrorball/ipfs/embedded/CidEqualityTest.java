package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The embedded node gives the same CIDs as Kubo (the test node) for the same bytes. */
final class CidEqualityTest {
    private static final long CHUNK = 262_144;

    @TempDir
    Path dir;

    private EmbeddedNode embedded;
    private KuboRpc kubo;

    @BeforeEach
    void open() throws IOException {
        embedded = EmbeddedNode.open(dir.resolve("node"));
        kubo = new KuboRpc(KuboNode.shared());
    }

    @AfterEach
    void close() throws IOException {
        embedded.close();
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 174 * CHUNK - 1, 174 * CHUNK, 174 * CHUNK + 1,
            175 * CHUNK, 100L * 1024 * 1024})
    void add_sameBytes_sameCidAsRealNode(long size) throws Exception {
        IpfsNode.Added added;
        try (InputStream in = TestBytes.of(size, size)) {
            added = embedded.add(in);
        }
        Cid real = kubo.add(() -> TestBytes.of(size, size));

        assertEquals(real, added.cid());
        assertEquals(size, added.size());
    }

    /** Pieces of odd sizes (a few bytes up to several chunks), as the requests of an upload bring them. */
    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 174 * CHUNK - 1, 174 * CHUNK, 174 * CHUNK + 1,
            175 * CHUNK, 100L * 1024 * 1024})
    void startAdd_piecesOfAnySize_sameCidAsRealNode(long size) throws Exception {
        int[] pieces = {1, 7, 65_536, 262_143, 262_145, 1_000_003, 3};
        IpfsNode.Added added;
        try (InputStream in = TestBytes.of(size, size);
             IpfsNode.StreamingAdd add = embedded.startAdd().orElseThrow()) {
            byte[] buffer = new byte[1_000_003];
            for (int i = 0; ; i++) {
                int n = in.readNBytes(buffer, 0, pieces[i % pieces.length]);
                if (n == 0) {
                    break;
                }
                add.write(buffer, 0, n);
            }
            added = add.finish();
        }
        Cid real = kubo.add(() -> TestBytes.of(size, size));

        assertEquals(real, added.cid());
        assertEquals(size, added.size());
        try (InputStream back = embedded.cat(added.cid().toString(), 0, -1);
             InputStream expected = TestBytes.of(size, size)) {
            assertEquals(java.util.HexFormat.of().formatHex(sha256(expected)),
                    java.util.HexFormat.of().formatHex(sha256(back)), "the blocks hold the bytes");
        }
    }

    private static byte[] sha256(InputStream in) throws Exception {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[65_536];
        int n;
        while ((n = in.read(buffer)) > 0) {
            md.update(buffer, 0, n);
        }
        return md.digest();
    }

    @Test
    void add_emptyStream_isTheEmptyRawBlock() throws Exception {
        assertEquals(Cid.parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
                embedded.add(new ByteArrayInputStream(new byte[0])).cid());
    }

    @Test
    void add_twoLevelTree_sameCidAsRealNode() throws Exception {
        // 174 * 174 + 1 chunks of one byte cannot be made; instead force the third level with the
        // smallest input that needs it: more than 174 * 174 leaves is 7.4 GiB, so check the
        // 174 * 2 + 1 case (a root over three parents, the last with one leaf)
        long size = (174 * 2 + 1) * CHUNK;
        Cid mine;
        try (InputStream in = TestBytes.of(7, size)) {
            mine = embedded.add(in).cid();
        }
        assertEquals(kubo.add(() -> TestBytes.of(7, size)), mine);
    }

    @Test
    void directoryBlock_treeOfFiles_sameCidAsRealNodeAdd() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("a.txt", bytes(1, 11));
        files.put("big.bin", bytes(2, (int) (2 * CHUNK + 5)));
        files.put("sub/c", bytes(3, 300));
        files.put("sub/empty", new byte[0]);
        files.put("sub/deeper/x", bytes(4, (int) CHUNK + 1));
        files.put("Z", bytes(5, 1));
        Map<String, Cid> real = kubo.addTree(files);

        Map<String, DagPb.Link> fileLinks = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Cid cid = embedded.add(new ByteArrayInputStream(file.getValue())).cid();
            assertEquals(real.get("d/" + file.getKey()), cid, file.getKey());
            long tsize = cid.codec() == Cid.RAW ? embedded.blockStat(cid).orElseThrow()
                    : UnixFs.cumulativeSize(embedded.blockGet(cid));
            String name = file.getKey().substring(file.getKey().lastIndexOf('/') + 1);
            fileLinks.put(file.getKey(), new DagPb.Link(name, cid, tsize));
        }
        byte[] deeper = UnixFs.directoryBlock(List.of(fileLinks.get("sub/deeper/x")));
        byte[] sub = UnixFs.directoryBlock(List.of(fileLinks.get("sub/empty"), fileLinks.get("sub/c"),
                UnixFs.linkTo("deeper", deeper)));
        byte[] root = UnixFs.directoryBlock(List.of(fileLinks.get("big.bin"), UnixFs.linkTo("sub", sub),
                fileLinks.get("a.txt"), fileLinks.get("Z")));

        assertEquals(real.get("d/sub/deeper"), UnixFs.cidOf(deeper));
        assertEquals(real.get("d/sub"), UnixFs.cidOf(sub));
        assertEquals(real.get("d"), UnixFs.cidOf(root));
    }

    @Test
    void directoryBlock_empty_isKubosEmptyDirectory() {
        assertEquals(Cid.parse("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"),
                UnixFs.cidOf(UnixFs.directoryBlock(List.of())));
    }

    /** A flat MFS directory of small files, built with files/cp on both nodes (names sorted bytewise). */
    @Test
    void filesCp_flatDirectoryOfSmallFiles_sameStatCidAsRealNode() throws Exception {
        String base = "/cideq-" + UUID.randomUUID();
        kubo.rpc("files/mkdir?arg=" + KuboRpc.arg(base + "/dir") + "&parents=true&cid-version=1");
        embedded.filesMkdir(base + "/dir");
        List<String> names = new ArrayList<>(List.of("b", "a", "blobs", "c.json", "\u00e9t\u00e9"));
        for (int i = 0; i < names.size(); i++) {
            byte[] content = bytes(i + 10, 100 * i + 1);
            Cid cid = embedded.add(new ByteArrayInputStream(content)).cid();
            assertEquals(cid, kubo.add(() -> new ByteArrayInputStream(content)));
            embedded.filesCp("/ipfs/" + cid, base + "/dir/" + names.get(i));
            kubo.rpc("files/cp?arg=" + KuboRpc.arg("/ipfs/" + cid) + "&arg=" + KuboRpc.arg(base + "/dir/" + names.get(i))
                    + "&cid-version=1");
        }
        Cid real = KuboRpc.hash(kubo.rpc("files/stat?arg=" + KuboRpc.arg(base + "/dir") + "&cid-base=base32"));

        assertEquals(real.toV1(), embedded.filesStat(base + "/dir").orElseThrow().cid());
    }

    /**
     * MFS directories holding multi-block files and subdirectories: Kubo's MFS writes a child's
     * cumulative size as its link Tsize, and so must EmbeddedNode, at every level.
     */
    @Test
    void filesCp_multiBlockFilesAndSubdirectories_sameStatCidsAsKubo() throws Exception {
        String base = "/cideq-" + UUID.randomUUID();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("big", bytes(30, (int) CHUNK * 3 + 11));
        files.put("small", bytes(31, 7));
        files.put("sub/layer", bytes(32, (int) CHUNK * 2));
        files.put("sub/deeper/config.json", bytes(33, 300));
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            String path = base + "/dir/" + file.getKey();
            String parent = path.substring(0, path.lastIndexOf('/'));
            kubo.rpc("files/mkdir?arg=" + KuboRpc.arg(parent) + "&parents=true&cid-version=1");
            embedded.filesMkdir(parent);
            byte[] content = file.getValue();
            Cid cid = embedded.add(new ByteArrayInputStream(content)).cid();
            assertEquals(cid, kubo.add(() -> new ByteArrayInputStream(content)));
            embedded.filesCp("/ipfs/" + cid, path);
            kubo.rpc("files/cp?arg=" + KuboRpc.arg("/ipfs/" + cid) + "&arg=" + KuboRpc.arg(path));
        }

        for (String dir : List.of("/dir", "/dir/sub", "/dir/sub/deeper")) {
            Cid real = KuboRpc.hash(kubo.rpc("files/stat?arg=" + KuboRpc.arg(base + dir)));
            assertEquals(real.toV1(), embedded.filesStat(base + dir).orElseThrow().cid(), dir);
        }
    }

    @Test
    void filesCp_directoryFromIpfs_keepsTheRealNodesCid() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("one", bytes(20, 5));
        files.put("two/three", bytes(21, (int) CHUNK * 3));
        Map<String, Cid> real = kubo.addTree(files);
        try (InputStream car = carFromKubo(real.get("d"))) {
            embedded.dagImport(car);
        }
        embedded.filesCp("/ipfs/" + real.get("d"), "/copy/d");

        assertEquals(real.get("d"), embedded.filesStat("/copy/d").orElseThrow().cid());
        assertEquals(real.get("d/two"), embedded.filesStat("/copy/d/two").orElseThrow().cid());
    }

    private InputStream carFromKubo(Cid root) throws IOException, InterruptedException {
        java.net.http.HttpResponse<InputStream> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        KuboNode.shared().apiUrl() + "/api/v0/dag/export?arg=" + root))
                        .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                        .timeout(java.time.Duration.ofSeconds(60)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private static byte[] bytes(long seed, int length) throws IOException {
        try (InputStream in = TestBytes.of(seed, length)) {
            return in.readNBytes(length);
        }
    }
}
