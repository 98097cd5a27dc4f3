package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigException;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.CommandResult;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Podman;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.TestCertificates;
import io.mirrorball.testing.TestCertificates.KeyFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS on the embedded server ({@code http.tls}): real clients (Java's HttpClient, skopeo, podman)
 * that trust only the test CA, HTTP/2 by ALPN, the per-client connection limit on TLS connections,
 * and a renewed certificate taken without a restart while a broken one is refused.
 */
final class GatewayTlsTest {
    private static final Duration RELOAD_DEADLINE = GatewayServer.CERTIFICATE_CHECK_INTERVAL.multipliedBy(6);

    @TempDir
    Path tmp;
    private final TestCertificates ca = TestCertificates.authority();
    private Path certificateFile;
    private Path keyFile;
    private TestCertificates.Issued first;
    private GatewayServer server;
    private final List<SSLSocket> sockets = new ArrayList<>();

    @BeforeEach
    void certificates() {
        certificateFile = tmp.resolve("fullchain.pem");
        keyFile = tmp.resolve("privkey.pem");
        first = ca.issue(BigInteger.valueOf(1001), KeyFormat.PKCS8_EC).write(certificateFile, keyFile);
    }

    @AfterEach
    void stop() throws Exception {
        for (SSLSocket socket : sockets) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private GatewayServer start(Map<String, String> extra) throws Exception {
        Map<String, String> env = new HashMap<>(extra);
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_HTTP_TLS_CERTIFICATE", certificateFile.toString());
        env.put("MIRRORBALL_HTTP_TLS_KEY", keyFile.toString());
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        server = GatewayServer.start(ConfigLoader.load(Optional.empty(), env));
        return server;
    }

    private HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().sslContext(ca.clientContext()).version(version)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Test
    void get_v2_overHttpsWithClientTrustingCa() throws Exception {
        start(Map.of());
        assertEquals("https", server.uri().getScheme());
        HttpResponse<String> v2 = client(HttpClient.Version.HTTP_1_1).send(HttpRequest.newBuilder(
                server.uri().resolve("/v2/")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, v2.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, v2.version());
        assertEquals("registry/2.0", v2.headers().firstValue("Docker-Distribution-API-Version").orElse(""));
        assertEquals(first.serial(), servedSerial());
    }

    @Test
    void get_plainHttpOnTlsPort_getsNoHttpAnswer() throws Exception {
        start(Map.of());
        try (java.net.Socket plain = new java.net.Socket("127.0.0.1", server.uri().getPort())) {
            plain.setSoTimeout(30_000);
            plain.getOutputStream().write("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] answer = plain.getInputStream().readNBytes(5);
            assertNotEquals("HTTP/", new String(answer, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void get_http2Client_negotiatesHttp2ByAlpn() throws Exception {
        start(Map.of());
        HttpClient h2 = client(HttpClient.Version.HTTP_2);
        HttpResponse<String> v2 = h2.send(HttpRequest.newBuilder(server.uri().resolve("/v2/"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, v2.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, v2.version());
        HttpResponse<String> missing = h2.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/app/manifests/none")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("MANIFEST_UNKNOWN"), missing.body());
    }

    @Test
    void pushAndPullBlob_overHttp2() throws Exception {
        start(Map.of());
        HttpClient h2 = client(HttpClient.Version.HTTP_2);
        byte[] blob = new byte[3 << 20];
        new java.util.Random(14).nextBytes(blob);
        Digest digest = Digest.ofBytes(blob);
        HttpResponse<String> started = h2.send(HttpRequest.newBuilder(server.uri().resolve(
                "/v2/tls/h2/blobs/uploads/")).POST(HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, started.statusCode(), started.body());
        assertEquals(HttpClient.Version.HTTP_2, started.version());
        URI location = server.uri().resolve(started.headers().firstValue("Location").orElseThrow());
        String separator = location.getRawQuery() == null ? "?" : "&";
        HttpResponse<String> put = h2.send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + digest))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).header("Content-Type", "application/octet-stream")
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        HttpResponse<byte[]> get = h2.send(HttpRequest.newBuilder(server.uri().resolve("/v2/tls/h2/blobs/" + digest))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, get.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, get.version());
        assertEquals(digest, Digest.ofBytes(get.body()));
    }

    @Test
    void reload_renewedFiles_nextConnectionSeesNewSerialWithoutRestart() throws Exception {
        start(Map.of());
        SSLSocket open = handshake();
        int port = server.uri().getPort();
        TestCertificates.Issued second = ca.issue(BigInteger.valueOf(2002), KeyFormat.SEC1_EC);
        second.write(certificateFile, keyFile);
        long deadline = System.nanoTime() + RELOAD_DEADLINE.toNanos();
        while (!servedSerial().equals(second.serial()) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(second.serial(), servedSerial(), "the scheduled check took the renewed certificate");
        assertEquals(port, server.uri().getPort());
        // the connection opened before keeps working with the certificate it shook hands with
        assertEquals(first.serial(), peer(open).getSerialNumber());
        assertEquals("HTTP/1.1 200 OK", get(open, "/v2/"));
    }

    @Test
    void reload_corruptOrMismatchedReplacement_keepsOldCertificate() throws Exception {
        start(Map.of());
        CertificateReloader reloader = server.certificates().orElseThrow();
        TestCertificates.Issued second = ca.issue(BigInteger.valueOf(2002), KeyFormat.PKCS8_EC);
        String half = second.certificatePem().substring(0, second.certificatePem().length() / 2);
        Files.writeString(certificateFile, half);  // a copy caught half way
        reloader.check();  // by this call or the schedule's, the half file has been looked at
        assertEquals(first.serial(), servedSerial());
        Files.writeString(certificateFile, second.certificatePem());  // the certificate renewed, the key not yet
        reloader.check();
        assertEquals(first.serial(), servedSerial());
        assertEquals(first.serial(), reloader.current().certificate().getSerialNumber());
        Files.writeString(keyFile, second.keyPem());
        reloader.check();
        assertEquals(second.serial(), servedSerial());
        assertEquals(CertificateReloader.Outcome.UNCHANGED, reloader.check());
    }

    @Test
    void connectionsPerClient_countsTlsConnectionsOnceAndRefusesBeyond() throws Exception {
        start(Map.of("MIRRORBALL_HTTP_MAX_CONNECTIONS_PER_CLIENT", "2"));
        SSLSocket one = handshake();
        SSLSocket two = handshake();
        assertEquals("HTTP/1.1 200 OK", get(one, "/v2/"));
        assertEquals("HTTP/1.1 200 OK", get(two, "/v2/"));
        SSLSocket three = handshake();
        assertTrue(get(three, "/v2/").startsWith("HTTP/1.1 429"));
        // over HTTP/2 too; the refused connection is ended (GOAWAY), so a later request gets a new one
        HttpClient h2 = client(HttpClient.Version.HTTP_2);
        HttpRequest v2 = HttpRequest.newBuilder(server.uri().resolve("/v2/")).timeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> refused = h2.send(v2, HttpResponse.BodyHandlers.ofString());
        assertEquals(429, refused.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, refused.version());
        one.close();
        two.close();
        three.close();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            status = h2.send(v2, HttpResponse.BodyHandlers.ofString()).statusCode();
        }
        assertEquals(200, status);
    }

    @Test
    void skopeo_pushAndPullVerifyingWithCa() throws Exception {
        start(Map.of());
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(14).layers(2, 300_000, true)
                .build("v1");
        Path certDir = tmp.resolve("certs");
        ca.writeCertificate(certDir.resolve("ca.crt"));
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        String ref = "docker://127.0.0.1:" + server.uri().getPort() + "/tls/app:v1";
        skopeo.copy(image.skopeoRef(), ref, "--dest-tls-verify=true", "--dest-cert-dir", certDir.toString());
        skopeo.copy(ref, "oci:" + tmp.resolve("pulled") + ":v1", "--src-tls-verify=true",
                "--src-cert-dir", certDir.toString());
        String raw = skopeo.inspectRaw(ref);
        assertEquals(image.manifestDigest(), Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)));
        assertTrue(Files.isRegularFile(tmp.resolve("pulled/index.json")));
        // verification is really on: without the CA the certificate is refused
        Skopeo.Result unverified = skopeo.run(List.of("inspect", "--tls-verify=true", "--raw", ref));
        assertNotEquals(0, unverified.exitCode());
        assertTrue(unverified.stderr().contains("certificate signed by unknown authority"), unverified.stderr());
    }

    @Test
    void podman_pullAndPushWithCertDir() throws Exception {
        start(Map.of());
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(15).layers(1, 200_000, true)
                .build("v1");
        Path certDir = tmp.resolve("certs");
        ca.writeCertificate(certDir.resolve("ca.crt"));
        String hostPort = "127.0.0.1:" + server.uri().getPort();
        Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + hostPort + "/tls/app:v1",
                "--dest-tls-verify=true", "--dest-cert-dir", certDir.toString());
        Podman podman = Podman.in(tmp.resolve("podman"));
        try {
            String ref = hostPort + "/tls/app:v1";
            podman.run(List.of("pull", "--tls-verify=true", "--cert-dir", certDir.toString(), "--signature-policy",
                    podman.registriesConf().resolveSibling("policy.json").toString(), ref)).requireSuccess();
            assertEquals(image.manifestDigest(), podman.imageDigest(ref));
            String copy = hostPort + "/tls/copy:v2";
            podman.run(List.of("tag", ref, copy)).requireSuccess();
            CommandResult push = podman.run(List.of("push", "--tls-verify=true", "--cert-dir", certDir.toString(), copy));
            push.requireSuccess();
            HttpResponse<String> pushed = client(HttpClient.Version.HTTP_2).send(HttpRequest.newBuilder(
                    server.uri().resolve("/v2/tls/copy/manifests/v2")).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept", "application/vnd.oci.image.manifest.v1+json,"
                            + "application/vnd.docker.distribution.manifest.v2+json")
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, pushed.statusCode());
        } finally {
            podman.close();
        }
    }

    @Test
    void start_certificateFileNotPem_isConfigErrorNamingKey() throws Exception {
        Files.writeString(certificateFile, "not a certificate\n");
        ConfigException e = assertThrows(ConfigException.class, () -> start(Map.of()));
        assertEquals("http.tls.certificate", e.key());
        server = null;
    }

    @Test
    void start_keyOfAnotherCertificate_isConfigErrorNamingKey() throws Exception {
        Files.writeString(keyFile, ca.issue(BigInteger.TEN, KeyFormat.PKCS8_EC).keyPem());
        ConfigException e = assertThrows(ConfigException.class, () -> start(Map.of()));
        assertEquals("http.tls.key", e.key());
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
    }

    /** A new TLS connection (ALPN http/1.1) trusting the CA, held until the test ends. */
    private SSLSocket handshake() throws IOException {
        URI uri = server.uri();
        SSLSocket socket = (SSLSocket) ca.clientContext().getSocketFactory().createSocket(uri.getHost(), uri.getPort());
        sockets.add(socket);
        socket.setSoTimeout(30_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"http/1.1"});
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    private BigInteger servedSerial() throws IOException {
        try (SSLSocket socket = handshake()) {
            return peer(socket).getSerialNumber();
        }
    }

    private static X509Certificate peer(SSLSocket socket) throws IOException {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    /** Sends a keep-alive GET and returns the status line, reading the body so the connection stays usable. */
    private static String get(SSLSocket socket, String path) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        String status = in.readLine();
        int length = 0;
        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        for (int i = 0; i < length; i++) {
            in.read();
        }
        return status;
    }
}
