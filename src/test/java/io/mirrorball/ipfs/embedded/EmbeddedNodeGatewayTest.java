package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Missing blocks come from trustless gateways, verified. The gateway here is a minimal trustless
 * gateway (raw blocks only) in front of another embedded node, since the js-ipfs test node's gateway
 * does not serve application/vnd.ipld.raw; a lying variant injects wrong bytes.
 */
final class EmbeddedNodeGatewayTest {
    private static final int CHUNK = 262_144;

    @TempDir
    Path dir;

    private EmbeddedNode origin;
    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile boolean lying;

    @BeforeEach
    void start() throws IOException {
        origin = EmbeddedNode.open(dir.resolve("origin"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ipfs/", this::serveBlock);
        server.start();
    }

    @AfterEach
    void stop() throws IOException {
        server.stop(0);
        origin.close();
    }

    private void serveBlock(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            boolean raw = "format=raw".equals(exchange.getRequestURI().getQuery())
                    && "application/vnd.ipld.raw".equals(exchange.getRequestHeaders().getFirst("Accept"));
            Cid cid = Cid.parse(path.substring("/ipfs/".length()));
            if (!raw || origin.blockStat(cid).isEmpty()) {
                exchange.sendResponseHeaders(raw ? 404 : 400, -1);
                return;
            }
            byte[] block = origin.blockGet(cid);
            if (lying) {
                block = block.clone();
                block[block.length / 2] ^= 1;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.ipld.raw");
            exchange.sendResponseHeaders(200, block.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(block);
            }
        }
    }

    private URI gateway() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void cat_blocksOnlyAtGateway_fetchesVerifiesAndStoresThem() throws IOException {
        long size = 3L * CHUNK + 17;
        Cid cid = origin.add(TestBytes.of(1, size)).cid();
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"), List.of(gateway()), Duration.ofSeconds(10))) {
            try (InputStream in = node.cat(cid.toString(), 0, -1); InputStream want = TestBytes.of(1, size)) {
                assertArrayEquals(want.readAllBytes(), in.readAllBytes());
            }
            assertEquals(5, requests.get()); // the file node and its 4 leaves, once each
            try (InputStream again = node.cat(cid.toString(), CHUNK, 10)) {
                assertEquals(10, again.readAllBytes().length);
            }
            assertEquals(5, requests.get());
            assertTrue(node.blockStat(cid).isPresent());
        }
    }

    @Test
    void filesCpAndPin_directoryAtGateway_completeLocallyAndFsckClean() throws IOException {
        Cid file = origin.add(TestBytes.of(2, 2L * CHUNK)).cid();
        origin.filesCp("/ipfs/" + file, "/img/blobs/data");
        origin.filesWrite("/img/disco.json", "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Cid image = origin.filesFlush("/img");
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"), List.of(gateway()), Duration.ofSeconds(10))) {
            node.filesCp("/ipfs/" + image, "/repositories/" + image);
            node.pinAdd(image);

            assertEquals(image, node.filesStat("/repositories/" + image).orElseThrow().cid());
            FsckReport report = node.fsck();
            assertTrue(report.clean(), report.toString());
            // MFS root, /repositories, the image dir, blobs/, disco.json, the data file node and its 2 leaves
            assertEquals(8, report.blocksChecked());
        }
    }

    @Test
    void cat_gatewayAnswersWrongBytes_isCorruptAndNothingStored() throws IOException {
        Cid cid = origin.add(TestBytes.of(3, 1000)).cid();
        lying = true;
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"), List.of(gateway()), Duration.ofSeconds(10))) {
            IpfsException e = assertThrows(IpfsException.class, () -> node.cat(cid.toString(), 0, -1));
            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(node.blockStat(cid).isEmpty());
        }
    }

    @Test
    void cat_noGatewayHasIt_isNotFound() throws IOException {
        Cid absent = Cid.sha256(Cid.RAW, new byte[32]);
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"),
                List.of(gateway(), URI.create("http://127.0.0.1:1")), Duration.ofSeconds(5))) {
            assertThrows(IpfsNotFoundException.class, () -> node.cat(absent.toString(), 0, -1));
        }
    }
}
