package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigException;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A gateway on a real Kubo node with API.Authorizations (Basic and Bearer), storage.ipfs.node and node-auth. */
final class KuboAuthorizationTest {
    private static final String USER = "mirror";
    private static final String PASSWORD = "pa55-w0rd-s3cr3t";
    private static final String TOKEN = "t0ken-s3cr3t-bearer";

    @TempDir
    static Path nodes;
    @TempDir
    Path tmp;

    private static KuboNode basicNode;
    private static KuboNode bearerNode;

    @BeforeAll
    static void startNodes() {
        basicNode = KuboNode.startAuthorized(nodes.resolve("basic"), "basic:" + USER + ":" + PASSWORD);
        bearerNode = KuboNode.startAuthorized(nodes.resolve("bearer"), "bearer:" + TOKEN);
    }

    @AfterAll
    static void stopNodes() {
        if (basicNode != null) {
            basicNode.close();
        }
        if (bearerNode != null) {
            bearerNode.close();
        }
    }

    @Test
    void start_basicCredentialsInUrl_pushesAndPulls() throws Exception {
        String url = basicNode.apiUrl().toString().replace("://", "://" + USER + ":" + PASSWORD + "@");
        pushAndPull(url, Map.of());
    }

    @Test
    void start_basicSecretInNodeAuth_pushesAndPulls() throws Exception {
        pushAndPull(basicNode.apiUrl().toString(),
                Map.of("MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "basic:" + USER + ":" + PASSWORD));
    }

    @Test
    void start_bearerSecretInNodeAuth_pushesAndPulls() throws Exception {
        pushAndPull(bearerNode.apiUrl().toString(), Map.of("MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "bearer:" + TOKEN));
    }

    @Test
    void start_wrongPasswordInUrl_failsWithClearMessage() {
        String url = basicNode.apiUrl().toString().replace("://", "://" + USER + ":wr0ng-s3cr3t@");
        ConfigException e = failedStart(url, Map.of(), "wr0ng-s3cr3t");
        assertEquals("storage.ipfs.node", e.key());
    }

    @Test
    void start_wrongBearerToken_failsWithClearMessage() {
        ConfigException e = failedStart(bearerNode.apiUrl().toString(),
                Map.of("MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "bearer:wr0ng-s3cr3t"), "wr0ng-s3cr3t");
        assertEquals("storage.ipfs.node-auth", e.key());
    }

    @Test
    void start_missingSecret_failsWithClearMessage() {
        ConfigException e = failedStart(bearerNode.apiUrl().toString(), Map.of(), TOKEN);
        assertTrue(e.getMessage().contains("set storage.ipfs.node-auth"), e.getMessage());
    }

    /** Pushes and pulls a blob; the start's log shows neither the password nor the token. */
    private void pushAndPull(String node, Map<String, String> env) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream err = System.err;
        TestGateway started;
        System.setErr(new PrintStream(new TeeStream(err, log), true, StandardCharsets.UTF_8));
        try {
            started = TestGateway.start(node, "/t-" + UUID.randomUUID(), tmp, env);
        } finally {
            System.setErr(err);
        }
        String logged = log.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("gateway started: ipfs "), logged);
        assertFalse(logged.contains(PASSWORD) || logged.contains(TOKEN), logged);
        try (TestGateway gateway = started) {
            byte[] blob = ("blob behind Kubo's API.Authorizations " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
            String digest = gateway.client().pushBlob("auth/app", blob);
            HttpResponse<byte[]> pulled = gateway.client().get("/v2/auth/app/blobs/" + digest);
            assertEquals(200, pulled.statusCode());
            assertArrayEquals(blob, pulled.body());
        }
    }

    /** Starts a gateway that must fail; the message and everything logged meanwhile must not show {@code secret}. */
    private ConfigException failedStart(String node, Map<String, String> env, String secret) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream err = System.err;
        ConfigException e;
        System.setErr(new PrintStream(new TeeStream(err, log), true, StandardCharsets.UTF_8));
        try {
            e = assertThrows(ConfigException.class, () -> TestGateway.start(node, "/t-" + UUID.randomUUID(), tmp, env));
        } finally {
            System.setErr(err);
        }
        assertTrue(e.getMessage().contains("the Kubo RPC API refused the credentials (API.Authorizations)"),
                e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(log.toString(StandardCharsets.UTF_8).contains(secret), log.toString(StandardCharsets.UTF_8));
        return e;
    }

    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws java.io.IOException {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }
    }
}
