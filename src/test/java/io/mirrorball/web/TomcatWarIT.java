package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR (target/mirrorball.war) in a real Tomcat (Debian's tomcat10, Servlet 6.0), deployed as
 * ROOT, configured only through MIRRORBALL_* variables; skopeo pushes and pulls through it.
 */
final class TomcatWarIT {
    private static final Path CATALINA_HOME = Path.of("/usr/share/tomcat10");
    @TempDir
    Path tmp;
    private Process tomcat;
    private int port;

    @BeforeEach
    void start() throws Exception {
        Path war = Path.of(System.getProperty("mirrorball.war", "target/mirrorball.war"));
        assertTrue(Files.isRegularFile(war), "the WAR is built by mvn package: " + war);
        assertTrue(Files.isExecutable(CATALINA_HOME.resolve("bin/catalina.sh")),
                "Tomcat 10 is not installed at " + CATALINA_HOME + ": run tests/setup.sh");
        Path base = tmp.resolve("catalina-base");
        for (String dir : new String[]{"conf", "logs", "temp", "work", "webapps"}) {
            Files.createDirectories(base.resolve(dir));
        }
        try (Stream<Path> files = Files.list(CATALINA_HOME.resolve("etc"))) {
            for (Path file : files.toList()) {
                Files.copy(file, base.resolve("conf").resolve(file.getFileName()));
            }
        }
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path serverXml = base.resolve("conf/server.xml");
        String xml = Files.readString(serverXml).replace("port=\"8080\"", "port=\"" + port + "\" address=\"127.0.0.1\"");
        Files.writeString(serverXml, xml);
        Files.copy(war, base.resolve("webapps/ROOT.war"));
        ProcessBuilder pb = new ProcessBuilder(CATALINA_HOME.resolve("bin/catalina.sh").toString(), "run")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("tomcat.log").toFile());
        pb.environment().put("CATALINA_HOME", CATALINA_HOME.toString());
        pb.environment().put("CATALINA_BASE", base.toString());
        pb.environment().put("CATALINA_TMPDIR", base.resolve("temp").toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("MIRRORBALL_STORAGE_IPFS_NODE", "embedded");
        pb.environment().put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString());
        pb.environment().put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString());
        tomcat = pb.start();
        waitReady();
    }

    private void waitReady() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!tomcat.isAlive()) {
                throw new AssertionError("Tomcat exited: " + Files.readString(tmp.resolve("tomcat.log")));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Tomcat is still starting
            }
            Thread.sleep(250);
        }
        throw new AssertionError("mirrorball did not answer in Tomcat within 90 s: "
                + Files.readString(tmp.resolve("tomcat.log")));
    }

    @AfterEach
    void stop() throws Exception {
        if (tomcat != null) {
            tomcat.descendants().forEach(ProcessHandle::destroyForcibly);
            tomcat.destroyForcibly();
            tomcat.waitFor();
        }
    }

    @Test
    void war_inTomcat_pushAndPullWithSkopeo() throws Exception {
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(91)
                .layers(3, 2 * 1024 * 1024, true).build("v1");
        String host = "127.0.0.1:" + port;
        skopeo.copy(image.skopeoRef(), "docker://" + host + "/org/app:v1");
        String raw = skopeo.inspectRaw("docker://" + host + "/org/app:v1");
        assertEquals(image.manifestDigest(), Digest.ofBytes(raw.getBytes(StandardCharsets.UTF_8)));
        skopeo.copy("docker://" + host + "/org/app:v1", "oci:" + tmp.resolve("out") + ":v1");
        for (Digest layer : image.layerDigests()) {
            assertTrue(Files.exists(tmp.resolve("out/blobs/sha256/" + layer.hex())), "layer " + layer);
        }
        HttpResponse<String> head = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + host + "/v2/org/app/manifests/v1")).method("HEAD",
                        HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(), HttpResponse.BodyHandlers.ofString());
        String cid = head.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
        String byCid = skopeo.inspectRaw("docker://" + host + "/" + cid + ":latest");
        assertEquals(raw, byCid, "pullable by CID from the WAR too");
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + host + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(PrometheusText.parse(metrics.body()).value("mirrorball_http_requests_seconds_count",
                java.util.Map.of("route", "manifest", "status", "2xx")) > 0, "metrics servlet registered by the listener");
        assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host
                + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "health servlet too");
        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host
                + "/ui/r/org/app/-/v1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode(), "the web page (its precompiled templates are in the WAR)");
        assertTrue(page.body().contains("/ipfs/" + cid + "?format=car"), page.body());

        // issue 9: Tomcat, like Jetty, would parse a form body as parameters; parameters come from the query only
        byte[] form = "digest=sha256:00&mount=x&from=y".getBytes(StandardCharsets.UTF_8);
        String formDigest = Digest.ofBytes(form).toString();
        HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + host + "/v2/org/form/blobs/uploads/?digest=" + formDigest))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofByteArray(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, post.statusCode(), post.body());
        HttpResponse<byte[]> blob = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + host + "/v2/org/form/blobs/" + formDigest)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, blob.statusCode());
        assertArrayEquals(form, blob.body());
    }
}
