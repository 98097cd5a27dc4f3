package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.oci.Digest;
import io.mirrorball.web.GatewayServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

final class CidCommandTest {
    @TempDir
    Path tmp;
    private GatewayServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = GatewayServer.start(ConfigLoader.load(Optional.empty(), Map.of(
                "MIRRORBALL_HTTP_ADDR", "127.0.0.1:0",
                "MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", tmp.resolve("ipfs").toString(),
                "MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads").toString())));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(Map.of());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new String[]{String.valueOf(code), out.toString().trim(), err.toString().trim()};
    }

    @Test
    void cid_printsTheCidOfAPushedImage() throws Exception {
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.ofBytes(config);
        assertEquals(201, http.send(HttpRequest.newBuilder(server.uri().resolve("/v2/org/app/blobs/uploads/?digest="
                + configDigest)).POST(HttpRequest.BodyPublishers.ofByteArray(config)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":2},\"layers\":[]}";
        HttpResponse<Void> put = http.send(HttpRequest.newBuilder(server.uri().resolve("/v2/org/app/manifests/v1"))
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString(manifest)).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(201, put.statusCode());
        String expected = put.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());

        String[] byTag = run("cid", "--registry", server.uri().toString(), "org/app:v1");
        assertEquals("0", byTag[0], byTag[2]);
        assertEquals(expected, byTag[1]);
        String[] byDigest = run("cid", "--registry", server.uri().toString(), "org/app@" + Digest.ofBytes(
                manifest.getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, byDigest[1]);
        String ipdr = put.headers().firstValue("X-Ipdr-Path").orElseThrow().substring("/ipfs/".length());
        String[] ipdrByTag = run("cid", "--ipdr", "--registry", server.uri().toString(), "org/app:v1");
        assertEquals("0", ipdrByTag[0], ipdrByTag[2]);
        assertEquals(ipdr, ipdrByTag[1]);
        assertTrue(!ipdr.equals(expected), "the ipdr view is a CID of its own");
        String[] missing = run("cid", "--registry", server.uri().toString(), "org/app:nope");
        assertEquals("1", missing[0]);
        assertTrue(missing[2].contains("404"), missing[2]);
    }
}
