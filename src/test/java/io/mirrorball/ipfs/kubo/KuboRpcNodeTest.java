package io.mirrorball.ipfs.kubo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodeContract;
import io.mirrorball.ipfs.IpfsNotFoundException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.mirrorball.testing.KuboNode;

/** The contract against the real test node, plus Kubo RPC specifics: timeouts, refusals, error JSON. */
final class KuboRpcNodeTest extends IpfsNodeContract {
    /** One client for the class, as a gateway has: closed after the contract's own clean-up. */
    private static KuboRpcNode node;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeAll
    static void connect() {
        node = KuboRpcNode.connect(KuboNode.shared().apiUrl(), Duration.ofSeconds(2), Duration.ofSeconds(30));
    }

    @AfterAll
    static void disconnect() throws IOException {
        node.close();
    }

    @Override
    protected IpfsNode node() {
        return node;
    }

    @Override
    protected boolean pinnedRecursively(Cid cid) {
        return KuboNode.shared().rpc("pin/ls?type=recursive").contains("\"" + cid + "\"");
    }

    @AfterEach
    void closeResources() throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        resources.add(resource);
        return resource;
    }

    // ---- connecting ------------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
        "http://127.0.0.1:5001, http://127.0.0.1:5001",
        "http://127.0.0.1:5001/, http://127.0.0.1:5001",
        "http://127.0.0.1:5001/api/v0, http://127.0.0.1:5001",
        "http://127.0.0.1:5001/api/v0/, http://127.0.0.1:5001",
        "http://localhost, http://localhost:80",
        "/ip4/127.0.0.1/tcp/5001, http://127.0.0.1:5001",
        "/ip6/::1/tcp/5001, http://[::1]:5001",
        "/dns4/ipfs.internal/tcp/5001/http, http://ipfs.internal:5001",
    })
    void connect_nodeSpec_normalisesApiBase(String spec, String expected) throws IOException {
        try (KuboRpcNode rpc = KuboRpcNode.connect(spec, Duration.ofSeconds(1), Duration.ofSeconds(1))) {
            assertEquals(URI.create(expected), rpc.apiBase());
        }
    }

    @ParameterizedTest
    @CsvSource({"ftp://127.0.0.1:5001", "/ip4/127.0.0.1/udp/5001", "/ip4/127.0.0.1/tcp/notaport", "embedded", "''"})
    void connect_badSpec_illegalArgument(String spec) {
        assertThrows(IllegalArgumentException.class,
                () -> KuboRpcNode.connect(spec, Duration.ofSeconds(1), Duration.ofSeconds(1)));
    }

    @Test
    void connect_apiUrlWithApiV0Suffix_works() throws IOException {
        try (KuboRpcNode rpc = KuboRpcNode.connect(URI.create(KuboNode.shared().apiUrl() + "/api/v0/"),
                Duration.ofSeconds(2), Duration.ofSeconds(10))) {
            assertEquals(KuboNode.shared().peerId(), rpc.id().id());
        }
    }

    @Test
    void connect_basicCredentialsInUrl_passKubosApiAuthorizations(@TempDir Path dir) throws IOException {
        byte[] content = pattern(CHUNK + 5, 77);
        try (KuboNode secured = KuboNode.startAuthorized(dir, "basic:mirrorball:s3cret-Pw");
                KuboRpcNode rpc = KuboRpcNode.connect(URI.create("http://mirrorball:s3cret-Pw@127.0.0.1:"
                        + secured.apiUrl().getPort()), Duration.ofSeconds(2), Duration.ofSeconds(30))) {
            assertEquals(secured.peerId(), rpc.id().id());
            Cid cid = rpc.add(new ByteArrayInputStream(content)).cid();
            try (InputStream in = rpc.cat(cid.toString(), 0, -1)) {
                assertArrayEquals(content, in.readAllBytes());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"mirrorball:n0t-the-secret@", "''"})
    void version_wrongOrNoCredentials_refusedByKuboWithoutEchoingThem(String userInfo, @TempDir Path dir)
            throws IOException {
        try (KuboNode secured = KuboNode.startAuthorized(dir, "basic:mirrorball:s3cret-Pw");
                KuboRpcNode rpc = KuboRpcNode.connect(URI.create("http://" + userInfo + "127.0.0.1:"
                        + secured.apiUrl().getPort()), Duration.ofSeconds(2), Duration.ofSeconds(30))) {
            IpfsException refused = assertThrows(IpfsException.class, rpc::version);

            assertEquals(IpfsException.Kind.FAILED, refused.kind());
            assertTrue(refused.getMessage().startsWith("ipfs version: HTTP 403 "), refused.getMessage());
            assertTrue(refused.getMessage().contains("API.Authorizations"), refused.getMessage());
            assertFalse(refused.getMessage().contains("n0t-the-secret"), refused.getMessage());
        }
    }

    @Test
    void version_nodeDown_failsFastUnavailable() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        try (KuboRpcNode down = KuboRpcNode.connect(URI.create("http://127.0.0.1:" + port),
                Duration.ofSeconds(10), Duration.ofSeconds(30))) {
            long start = System.nanoTime();
            IpfsException e = assertThrows(IpfsException.class, down::version);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertEquals(IpfsException.Kind.UNAVAILABLE, e.kind(), e.toString());
            assertTrue(millis < 3_000, "refused connection took " + millis + " ms");
            assertTrue(e.getMessage().contains("ipfs version"), e.getMessage());
            assertThrows(IpfsException.class, () -> down.add(new ByteArrayInputStream(new byte[10])));
        }
    }

    // ---- fault injection -------------------------------------------------------------------------

    @Test
    void version_stalledServer_timeoutWithinReadTimeout() throws IOException {
        FakeServer stalled = closeLater(new FakeServer(request -> null));
        try (KuboRpcNode rpc = KuboRpcNode.connect(stalled.uri(), Duration.ofSeconds(2), Duration.ofMillis(800))) {
            long start = System.nanoTime();
            IpfsException e = assertThrows(IpfsException.class, rpc::version);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertEquals(IpfsException.Kind.TIMEOUT, e.kind(), e.toString());
            assertTrue(millis >= 700 && millis < 3_000, "stalled call ended after " + millis + " ms");
        }
    }

    @Test
    void add_stalledServer_timeout() throws IOException {
        FakeServer stalled = closeLater(new FakeServer(request -> null));
        try (KuboRpcNode rpc = KuboRpcNode.connect(stalled.uri(), Duration.ofSeconds(2), Duration.ofMillis(800))) {
            IpfsException e = assertThrows(IpfsException.class,
                    () -> rpc.add(new ByteArrayInputStream("small".getBytes(StandardCharsets.UTF_8))));

            assertEquals(IpfsException.Kind.TIMEOUT, e.kind(), e.toString());
        }
    }

    /**
     * Regression: concurrent tag PUTs into one repository failed with 502 now and then, because Kubo's
     * {@code files/write ... parents=true} is not atomic ("directory already has entry by that name",
     * "file does not exist" when two calls create the same directory or file at once).
     */
    @Test
    void filesWrite_concurrentIntoNewDirectories_allSucceed() throws Exception {
        int threads = 6;
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> new Thread(r, "mfs-race-test"));
        try {
            for (int round = 0; round < 20; round++) {
                String base = root + "/r" + round + "/_manifests";
                List<Future<?>> writes = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int tag = t;
                    writes.add(pool.submit(() -> {
                        node.filesWrite(base + "/tags/t" + tag + "/current/link", bytes("sha256:" + tag));
                        node.filesWrite(base + "/revisions/sha256/aa/link", bytes("sha256:aa"));
                        return null;
                    }));
                }
                for (Future<?> write : writes) {
                    write.get(60, TimeUnit.SECONDS);
                }
                for (int t = 0; t < threads; t++) {
                    try (InputStream in = node.filesRead(base + "/tags/t" + t + "/current/link", 0, -1)) {
                        assertEquals("sha256:" + t, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Regression: a migration linked several blobs into one new repository at once (201 each), then
     * the manifest PUT found one of the links missing (MANIFEST_BLOB_UNKNOWN). Kubo's files/mkdir,
     * files/mv, files/rm and files/cp flush a directory, which empties its cache of child
     * directories; a write still working below it then updates a forgotten copy, and its file is
     * lost. Publishing another image (files/cp into repositories) did it during the migration.
     */
    @Test
    void filesWrite_whileOtherChangesFlushAnAncestor_noWriteLost() throws Exception {
        int threads = 10;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 4, r -> new Thread(r, "mfs-flush-race-test"));
        List<String> lost = new ArrayList<>();
        try {
            String repositories = root + "/repositories";
            node.filesMkdir(repositories);
            Cid image = node.add(new ByteArrayInputStream(bytes("an image"))).cid();
            for (int round = 0; round < 40; round++) {
                String repository = repositories + "/r" + round;
                String gone = repositories + "/gone" + round;
                String moved = root + "/moved" + round;
                node.filesWrite(gone + "/x", bytes("x"));
                node.filesWrite(moved + "-from", bytes("x"));
                List<Future<?>> changes = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    String link = repository + "/_layers/sha256/" + hex(round, t) + "/link";
                    String content = "sha256:" + hex(round, t);
                    changes.add(pool.submit(() -> {
                        node.filesWrite(link, bytes(content));
                        return null;
                    }));
                }
                changes.add(pool.submit(() -> {
                    node.filesMkdir(repositories); // exists: Kubo flushes it all the same
                    return null;
                }));
                changes.add(pool.submit(() -> {
                    node.filesMv(moved + "-from", moved + "-to"); // Kubo flushes "/"
                    return null;
                }));
                changes.add(pool.submit(() -> {
                    node.filesRm(gone); // Kubo flushes the parent, repositories
                    return null;
                }));
                String published = repositories + "/published" + round;
                changes.add(pool.submit(() -> {
                    node.filesCp("/ipfs/" + image, published); // as ImagePublisher: Kubo flushes repositories
                    return null;
                }));
                for (Future<?> change : changes) {
                    change.get(60, TimeUnit.SECONDS);
                }
                for (int t = 0; t < threads; t++) {
                    String link = repository + "/_layers/sha256/" + hex(round, t) + "/link";
                    if (node.filesStat(link).isEmpty()) {
                        lost.add(link.substring(root.length()));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(lost.isEmpty(), lost.size() + " acknowledged writes missing afterwards, such as "
                + lost.subList(0, Math.min(3, lost.size())));
    }

    private static String hex(int round, int thread) {
        return String.format("%064x", round * 1000L + thread);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A node that stops taking an upload's bytes fails the add within the read timeout, never hangs the upload. */
    @Test
    void startAdd_nodeStopsReading_writeFailsWithinTheReadTimeout() throws IOException {
        FakeServer stalled = closeLater(new FakeServer(request -> null));
        try (KuboRpcNode rpc = KuboRpcNode.connect(stalled.uri(), Duration.ofSeconds(2), Duration.ofMillis(800));
             IpfsNode.StreamingAdd add = rpc.startAdd().orElseThrow()) {
            byte[] piece = new byte[64 * 1024];
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1_000_000; i++) {
                    add.write(piece, 0, piece.length);
                }
            });
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(millis < 15_000, "the stalled add failed after " + millis + " ms: " + e);
            assertThrows(IOException.class, add::finish);
        }
    }

    /** At most MAX_STREAMING_ADDS run at once (each holds a connection); beyond, uploads add at completion. */
    @Test
    void startAdd_beyondTheLimit_empty_untilOneEnds() throws Exception {
        try (KuboRpcNode rpc = KuboRpcNode.connect(KuboNode.shared().apiUrl(), Duration.ofSeconds(2), Duration.ofSeconds(30))) {
            List<IpfsNode.StreamingAdd> adds = new ArrayList<>();
            try {
                for (int i = 0; i < KuboRpcNode.MAX_STREAMING_ADDS; i++) {
                    adds.add(rpc.startAdd().orElseThrow());
                }
                assertTrue(rpc.startAdd().isEmpty(), "add number " + (KuboRpcNode.MAX_STREAMING_ADDS + 1));
                adds.get(0).write(new byte[] {1, 2, 3}, 0, 3);
                assertEquals(3, adds.get(0).finish().size());
                Optional<IpfsNode.StreamingAdd> next = Optional.empty();
                for (int i = 0; i < 50 && next.isEmpty(); i++) {
                    Thread.sleep(100);
                    next = rpc.startAdd();
                }
                assertTrue(next.isPresent(), "a finished add frees its place");
                adds.add(next.get());
            } finally {
                adds.forEach(IpfsNode.StreamingAdd::close);
            }
        }
    }

    @Test
    void cat_serverStallsMidStream_readTimesOut_andCloseIsImmediate() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> chunkedHead() + "5\r\nhello\r\n"));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofMillis(800))) {
            InputStream in = rpc.cat("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 0, -1);
            assertEquals("hello", new String(in.readNBytes(5), StandardCharsets.UTF_8));

            IpfsException e = assertThrows(IpfsException.class, in::read);
            assertEquals(IpfsException.Kind.TIMEOUT, e.kind(), e.toString());
            in.close();
        }
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(20))) {
            InputStream in = rpc.cat("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 0, -1);
            assertEquals("hello", new String(in.readNBytes(5), StandardCharsets.UTF_8));
            long start = System.nanoTime();
            in.close();
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(millis < 1_000, "closing an unfinished stream must abort, not drain: " + millis + " ms");
        }
    }

    @Test
    void cat_streamErrorTrailer_failsAtTheEnd() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> chunkedHead()
                + "5\r\nhello\r\n0\r\nX-Stream-Error: context canceled: block went away\r\n\r\n"));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5));
                InputStream in = rpc.cat("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 0, -1)) {
            IpfsException e = assertThrows(IpfsException.class, in::readAllBytes);

            assertTrue(e.getMessage().contains("block went away"), e.getMessage());
        }
    }

    /**
     * Regression (CI, stop 19): boxo's {@code mfs.Mkdir} looks a parent up, finds nothing, and fails
     * with Go's {@code os.ErrExist} ("file already exists") when another call created it meanwhile.
     */
    @Test
    void filesWrite_parentCreatedMeanwhile_isRepeated() throws IOException {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        FakeServer server = closeLater(new FakeServer(request -> calls.incrementAndGet() == 1
                ? json(500, "{\"Message\":\"file already exists\",\"Code\":0,\"Type\":\"error\"}")
                : json(200, "")));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            rpc.filesWrite("/r/_manifests/tags/t0/current/link", bytes("sha256:0"));

            assertEquals(2, server.requests().size(), server.requests().toString());
        }
    }

    /** Only a lost race is repeated: a real failure comes back after one call. */
    @Test
    void filesWrite_otherFailure_isNotRepeated() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> json(500,
                "{\"Message\":\"failed to flush: disk full\",\"Code\":0,\"Type\":\"error\"}")));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            assertThrows(IpfsException.class, () -> rpc.filesWrite("/r/link", bytes("x")));

            assertEquals(1, server.requests().size(), server.requests().toString());
        }
    }

    @Test
    void filesMkdir_kuboErrorJson_namesRpcAndPath() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> json(500,
                "{\"Message\":\"mkdir: failed to flush: disk full\",\"Code\":0,\"Type\":\"error\"}")));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            IpfsException e = assertThrows(IpfsException.class, () -> rpc.filesMkdir("/docker/registry/v2/x y"));

            assertEquals(IpfsException.Kind.FAILED, e.kind());
            assertFalse(e instanceof IpfsNotFoundException);
            assertEquals("ipfs files/mkdir /docker/registry/v2/x y: mkdir: failed to flush: disk full", e.getMessage());
            assertTrue(server.requests().get(0).startsWith(
                    "POST /api/v0/files/mkdir?arg=%2Fdocker%2Fregistry%2Fv2%2Fx%20y&parents=true "),
                    server.requests().toString());
        }
    }

    @Test
    void filesLs_realNodeError_namesRpcAndPath() {
        IpfsNotFoundException e = assertThrows(IpfsNotFoundException.class, () -> node.filesLs(root + "/missing"));

        assertTrue(e.getMessage().startsWith("ipfs files/ls " + root + "/missing: "), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void version_notFoundPage_isFailedNotNotFound() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> "HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\n"
                + "Content-Type: text/plain\r\n\r\n404 page not found"));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            IpfsException e = assertThrows(IpfsException.class, rpc::version);

            assertFalse(e instanceof IpfsNotFoundException, e.toString());
            assertEquals("ipfs version: HTTP 404 404 page not found", e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource({"502, UNAVAILABLE", "503, UNAVAILABLE", "504, TIMEOUT", "500, FAILED", "403, FAILED"})
    void version_proxyErrorWithoutKuboJson_kindByStatus(int status, IpfsException.Kind kind) throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> "HTTP/1.1 " + status + " X\r\nContent-Length: 5\r\n"
                + "Content-Type: text/html\r\nConnection: close\r\n\r\nproxy"));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            IpfsException e = assertThrows(IpfsException.class, rpc::version);

            assertEquals(kind, e.kind(), e.toString());
            assertEquals("ipfs version: HTTP " + status + " proxy", e.getMessage());
        }
    }

    @Test
    void connect_credentialsInUrl_sentAsBasicAuth_andNotShown() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> json(200, "{\"Version\":\"0.29.0\"}")));
        URI withCredentials = URI.create("http://alice:s3cret@127.0.0.1:" + server.uri().getPort() + "/");
        try (KuboRpcNode rpc = KuboRpcNode.connect(withCredentials, Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            assertEquals("0.29.0", rpc.version());

            assertTrue(server.requests().get(0).contains("Authorization: Basic YWxpY2U6czNjcmV0\r\n"),
                    server.requests().toString());
            assertFalse(rpc.apiBase().toString().contains("s3cret"));
            assertFalse(rpc.toString().contains("s3cret"));
        }
    }

    @Test
    void blockPut_nodeAnswersOtherCid_corrupt() throws IOException {
        FakeServer server = closeLater(new FakeServer(request -> json(200,
                "{\"Key\":\"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\",\"Size\":0}")));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            IpfsException e = assertThrows(IpfsException.class, () -> rpc.blockPut(new byte[] {1, 2, 3}, Cid.RAW));

            assertEquals(IpfsException.Kind.CORRUPT, e.kind(), e.toString());
        }
    }

    @Test
    void blockPut_nodePrintsCidV0_returnsCidV1() throws IOException {
        // js-ipfs and Kubo with legacy format print dag-pb blocks as CIDv0
        FakeServer server = closeLater(new FakeServer(request -> json(200,
                "{\"Key\":\"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn\",\"Size\":4}")));
        try (KuboRpcNode rpc = KuboRpcNode.connect(server.uri(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            assertEquals(Cid.parse(EMPTY_DIRECTORY_CID), rpc.blockPut(EMPTY_DIRECTORY_NODE, Cid.DAG_PB));
            assertTrue(server.requests().get(0).contains("cid-codec=dag-pb"), server.requests().toString());
        }
    }

    @Test
    void version_afterNodeClosedIdleKeepAlive_reconnects() throws Exception {
        assertFalse(node.version().isBlank());
        Thread.sleep(5_600); // js-ipfs closes idle keep-alive connections after 5 s

        assertFalse(node.version().isBlank());
        assertEquals(Cid.parse(EMPTY_RAW_CID), node.add(InputStream.nullInputStream()).cid());
    }

    @Test
    void dagImport_intoSecondNode_makesContentAvailableThere(@TempDir Path dir) throws IOException {
        byte[] content = pattern(CHUNK * 3 + 11, 2024);
        Cid cid = node.add(new ByteArrayInputStream(content)).cid();
        Path car = dir.resolve("image.car");
        try (InputStream in = node.dagExport(cid); OutputStream out = Files.newOutputStream(car)) {
            in.transferTo(out);
        }

        try (KuboNode other = KuboNode.start(dir);
                KuboRpcNode second = KuboRpcNode.connect(other.apiUrl(), Duration.ofSeconds(2), Duration.ofSeconds(30))) {
            assertEquals(Optional.empty(), second.blockStat(cid), "the second node starts empty and unpeered");
            List<Cid> roots;
            try (InputStream in = Files.newInputStream(car)) {
                roots = second.dagImport(in);
            }

            assertEquals(List.of(cid), roots);
            try (InputStream in = second.cat(cid.toString(), CHUNK - 1, 2)) {
                assertArrayEquals(Arrays.copyOfRange(content, CHUNK - 1, CHUNK + 1), in.readAllBytes());
            }
            second.filesCp("/ipfs/" + cid, "/imported/data");
            assertEquals(content.length, second.filesStat("/imported/data").orElseThrow().size());
        }
    }

    // ---- streaming -------------------------------------------------------------------------------

    @Test
    void add_sourceStreamFails_rethrowsTheSourceFailure_andNodeStillWorks() throws IOException {
        IOException broken = new IOException("client went away");
        InputStream failing = new InputStream() {
            private int sent;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (sent > 1_000_000) {
                    throw broken;
                }
                int n = Math.min(len, 65_536);
                sent += n;
                return n;
            }
        };

        IOException e = assertThrows(IOException.class, () -> node.add(failing));

        assertSame(broken, e);
        assertEquals(Cid.parse(EMPTY_RAW_CID), node.add(InputStream.nullInputStream()).cid());
    }

    @Test
    void add_hundredMebibyteStream_streamsWithoutBuffering() throws IOException {
        long size = 100L << 20;
        long before = usedHeap();
        long start = System.nanoTime();
        IpfsNode.Added added;
        try (InputStream content = new PatternStream(size, 4242)) {
            added = node.add(content);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        long heapGrowth = usedHeap() - before;

        assertEquals(size, added.size());
        assertEquals(UnixfsReference.cid(new PatternStream(size, 4242)), added.cid());
        System.out.printf("add 100 MiB: %d ms (%.1f MiB/s), heap growth %d MiB, cid %s%n",
                millis, 100_000.0 / Math.max(1, millis), heapGrowth >> 20, added.cid());
        long catStart = System.nanoTime();
        try (InputStream in = node.cat(added.cid().toString(), 0, -1)) {
            assertEquals(size, in.transferTo(OutputStream.nullOutputStream()));
        }
        long catMillis = (System.nanoTime() - catStart) / 1_000_000;
        System.out.printf("cat 100 MiB: %d ms (%.1f MiB/s)%n", catMillis, 100_000.0 / Math.max(1, catMillis));
    }

    @Test
    void concurrentCalls_shareThePool() throws Exception {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int seed = t;
            Thread thread = new Thread(() -> {
                try {
                    Cid cid = node.add(new PatternStream(300_000, seed)).cid();
                    node.filesCp("/ipfs/" + cid, root + "/t" + seed + "/data");
                    try (InputStream in = node.filesRead(root + "/t" + seed + "/data", 0, -1)) {
                        assertEquals(300_000, in.transferTo(OutputStream.nullOutputStream()));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "kubo-test-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(60_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(16, node.filesLs(root).size());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private static String chunkedHead() {
        return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
                + "Trailer: X-Stream-Error\r\n\r\n";
    }

    private static String json(int status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n" + body;
    }

    /**
     * A fault-injection HTTP server: for each request it writes the canned response text, or writes
     * nothing and holds the connection open when the function returns null. Requests are recorded
     * with their request line and headers.
     */
    static final class FakeServer implements AutoCloseable {
        private final ServerSocket socket;
        private final Thread acceptor;
        private final List<Socket> connections = new CopyOnWriteArrayList<>();
        private final List<String> requests = new CopyOnWriteArrayList<>();

        FakeServer(Function<String, String> responder) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket connection = socket.accept();
                        connections.add(connection);
                        String head = readHead(connection.getInputStream());
                        String requestLine = head.lines().findFirst().orElse("");
                        requests.add(head);
                        String response = responder.apply(requestLine);
                        if (response != null) {
                            connection.getOutputStream().write(response.getBytes(StandardCharsets.UTF_8));
                            connection.getOutputStream().flush();
                        }
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, "kubo-fake-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }

        List<String> requests() {
            return requests;
        }

        private static String readHead(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.append((char) b);
            }
            return head.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket connection : connections) {
                connection.close();
            }
            try {
                acceptor.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
