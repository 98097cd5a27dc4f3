package io.mirrorball.web;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.testing.KitNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A real gateway for one test: embedded Jetty on 127.0.0.1:0, the shared kit IPFS node, a fresh MFS
 * root {@code /t-<uuid>} and an uploads directory under the test's temp dir. Close it in @AfterEach.
 */
final class TestGateway implements AutoCloseable {
    private final GatewayServer server;
    private final RegistryClient client;
    private final String mfsRoot;
    private final Path uploads;
    private final String nodeUrl;

    private TestGateway(GatewayServer server, String mfsRoot, Path uploads, String nodeUrl) {
        this.server = server;
        this.client = new RegistryClient(server.uri());
        this.mfsRoot = mfsRoot;
        this.uploads = uploads;
        this.nodeUrl = nodeUrl;
    }

    /** A gateway on the shared kit node, with a fresh MFS root. */
    static TestGateway start(Path tmp) throws Exception {
        if (Boolean.getBoolean("mirrorball.apitest.embedded")) {
            // debugging aid only (-Dmirrorball.apitest.embedded=true): the embedded node instead of the kit
            return start("embedded", "/t-" + UUID.randomUUID(), tmp.resolve("uploads"), tmp.resolve("ipfs"));
        }
        return start(KitNode.shared().apiUrl().toString(), "/t-" + UUID.randomUUID(), tmp.resolve("uploads"));
    }

    /** A gateway on the given node URL, MFS root and uploads directory (a restart reuses them). */
    static TestGateway start(String nodeUrl, String mfsRoot, Path uploads) throws Exception {
        return start(nodeUrl, mfsRoot, uploads, uploads.resolveSibling("ipfs-embedded"));
    }

    private static TestGateway start(String nodeUrl, String mfsRoot, Path uploads, Path embedded) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", embedded.toString());
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", nodeUrl);
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", uploads.toString());
        env.put("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", mfsRoot);
        MirrorballConfig config = ConfigLoader.load(Optional.empty(), Map.copyOf(env));
        return new TestGateway(GatewayServer.start(config), mfsRoot, uploads, nodeUrl);
    }

    /** Stops this gateway and starts a new one on the same storage (cold caches). */
    TestGateway restart() throws Exception {
        close();
        return start(nodeUrl, mfsRoot, uploads, uploads.resolveSibling("ipfs"));
    }

    RegistryClient client() {
        return client;
    }

    String mfsRoot() {
        return mfsRoot;
    }

    Path uploads() {
        return uploads;
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
