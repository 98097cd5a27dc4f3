package io.mirrorball.web;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.testing.KuboNode;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * A real gateway for one test: embedded Jetty on 127.0.0.1:0, the shared Kubo test node, a fresh MFS
 * root {@code /t-<uuid>} and an uploads directory under the test's temp dir. Close it in @AfterEach.
 */
public final class TestGateway implements AutoCloseable {
    private final GatewayServer server;
    private final RegistryClient client;
    private final Map<String, String> env;
    private final UnaryOperator<MirrorballConfig> adjust;
    private final Clock clock;

    private TestGateway(GatewayServer server, Map<String, String> env, UnaryOperator<MirrorballConfig> adjust,
                        Clock clock) {
        this.server = server;
        this.client = new RegistryClient(server.uri());
        this.env = env;
        this.adjust = adjust;
        this.clock = clock;
    }

    /** A gateway on the shared Kubo test node, with a fresh MFS root. */
    public static TestGateway start(Path tmp) throws Exception {
        return start(tmp, Map.of());
    }

    /** As {@link #start(Path)}, with more MIRRORBALL_* settings. */
    public static TestGateway start(Path tmp, Map<String, String> extraEnv) throws Exception {
        String node = Boolean.getBoolean("mirrorball.apitest.embedded")
                ? "embedded"  // the pom runs the API tests a second time with -Dmirrorball.apitest.embedded=true
                : KuboNode.shared().apiUrl().toString();
        return start(node, "/t-" + UUID.randomUUID(), tmp, extraEnv);
    }

    /** A gateway on the given node URL and MFS root, with uploads (and an unused embedded dir) under {@code tmp}. */
    public static TestGateway start(String nodeUrl, String mfsRoot, Path tmp, Map<String, String> extraEnv)
            throws Exception {
        return start(env(nodeUrl, mfsRoot, tmp, extraEnv));
    }

    private static Map<String, String> env(String nodeUrl, String mfsRoot, Path tmp, Map<String, String> extraEnv) {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", nodeUrl);
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs-embedded").toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        env.put("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", mfsRoot);
        return Map.copyOf(env);
    }

    /**
     * As {@link #start(String, String, Path, Map)}, with the loaded configuration changed by {@code adjust}
     * (for records the environment cannot set yet) and the gateway's clock.
     */
    public static TestGateway start(String nodeUrl, String mfsRoot, Path tmp, Map<String, String> extraEnv,
                                    UnaryOperator<MirrorballConfig> adjust, Clock clock) throws Exception {
        return start(env(nodeUrl, mfsRoot, tmp, extraEnv), adjust, clock);
    }

    private static TestGateway start(Map<String, String> env) throws Exception {
        return start(env, UnaryOperator.identity(), Clock.systemUTC());
    }

    private static TestGateway start(Map<String, String> env, UnaryOperator<MirrorballConfig> adjust, Clock clock)
            throws Exception {
        MirrorballConfig config = adjust.apply(ConfigLoader.load(Optional.empty(), env));
        return new TestGateway(GatewayServer.start(config, clock), env, adjust, clock);
    }

    /** Stops this gateway and starts a new one with the same settings and storage (cold caches). */
    public TestGateway restart() throws Exception {
        close();
        return start(env, adjust, clock);
    }

    /** The gateway's base URI, {@code http://127.0.0.1:<port>}. */
    public java.net.URI uri() {
        return server.uri();
    }

    /** The settings it runs with (MIRRORBALL_* names), e.g. for a command that opens its store. */
    public Map<String, String> env() {
        return env;
    }

    /** The running gateway: its store, upstream and metrics. */
    Gateway gateway() {
        return server.gateway();
    }

    RegistryClient client() {
        return client;
    }

    public String mfsRoot() {
        return env.get("MIRRORBALL_STORAGE_IPFS_MFS_ROOT");
    }

    public Path uploads() {
        return Path.of(env.get("MIRRORBALL_STORAGE_UPLOADS_PATH"));
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
