package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.Varint;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.web.GatewayServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mirrorball export} and {@code import} end to end: images pushed with skopeo into gateways
 * on Kubo and on the embedded node, exported to a CAR, imported into a fresh embedded store (and
 * with {@code ipfs dag import --pin-roots} into another Kubo), then pulled by CID with skopeo.
 */
final class ExportImportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;
    private Skopeo skopeo;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void skopeo() {
        Skopeo.requireBinary();
        skopeo = Skopeo.in(tmp.resolve("skopeo"));
    }

    /** A store's configuration file: the node ("embedded" or a Kubo RPC URL) and a fresh MFS root. */
    private Path store(String name, String node) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path file = dir.resolve("mirrorball.yml");
        Files.writeString(file, String.join("\n",
                "http:",
                "  addr: \"127.0.0.1:0\"",
                "storage:",
                "  ipfs:",
                "    node: \"" + node + "\"",
                "    embedded:",
                "      path: \"" + dir.resolve("ipfs") + "\"",
                "    mfs-root: /ei-" + UUID.randomUUID(),
                "    clone-timeout: 20s",
                "  uploads:",
                "    path: \"" + dir.resolve("uploads") + "\"",
                ""));
        return file;
    }

    private static GatewayServer gateway(Path config) throws Exception {
        return GatewayServer.start(ConfigLoader.load(Optional.of(config), Map.of()));
    }

    private static String host(GatewayServer gateway) {
        return gateway.uri().getHost() + ":" + gateway.uri().getPort();
    }

    private record Run(int code, String out, String err) {
    }

    private static Run mirrorball(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(Map.of());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString().trim(), err.toString().trim());
    }

    private OciLayoutBuilder.Image image() {
        return OciLayoutBuilder.at(tmp.resolve("src")).seed(41)
                .layer(1 << 20, true).layer(300_001, true).build("v1");
    }

    /** Pushes the image as ei/app:v1 and returns its CID, as the cid command reports it. */
    private String push(GatewayServer gateway, OciLayoutBuilder.Image image) {
        skopeo.copy(image.skopeoRef(), "docker://" + host(gateway) + "/ei/app:v1");
        Run cid = mirrorball("cid", "--registry", gateway.uri().toString(), "ei/app:v1");
        assertEquals(0, cid.code(), cid.err());
        assertTrue(Cid.isCid(cid.out()), cid.out());
        return cid.out();
    }

    /** Pulls {@code <cid>:latest} with skopeo and checks the manifest digest and every layer. */
    private void assertPullByCid(GatewayServer gateway, String cid, OciLayoutBuilder.Image image) throws Exception {
        String ref = "docker://" + host(gateway) + "/" + cid + ":latest";
        JsonNode inspect = JSON.readTree(skopeo.inspect(ref));
        assertEquals(image.manifestDigest().toString(), inspect.path("Digest").asText(), inspect.toString());
        List<String> layers = new ArrayList<>();
        inspect.path("Layers").forEach(l -> layers.add(l.asText()));
        assertEquals(image.layerDigests().stream().map(Digest::toString).toList(), layers);
        Path out = tmp.resolve("pulled-" + UUID.randomUUID());
        skopeo.copy(ref, "dir:" + out); // skopeo checks every blob against its digest
        for (Digest layer : image.layerDigests()) {
            assertTrue(Files.isRegularFile(out.resolve(layer.hex())), "layer " + layer + " pulled");
        }
    }

    private HttpResponse<String> manifest(GatewayServer gateway, String cid, Digest digest) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway.uri() + "/v2/" + cid + "/manifests/" + digest))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void export_fromKuboAndEmbedded_importIntoEmbeddedAndKubo_pullByCidKeepsDigests() throws Exception {
        OciLayoutBuilder.Image image = image();
        Path kuboStore = store("kubo", KuboNode.shared().apiUrl().toString());
        Path embeddedStore = store("embedded", "embedded");
        String cid;
        Path byTag = tmp.resolve("by-tag.car");
        Path byCid = tmp.resolve("by-cid.car");
        try (GatewayServer kubo = gateway(kuboStore)) {
            cid = push(kubo, image);
            // a store on Kubo can be exported while its gateway runs
            Run export = mirrorball("export", "ei/app:v1", "-o", byTag.toString(), "-c", kuboStore.toString());
            assertEquals(new Run(0, cid, ""), export);
            assertEquals(new Run(0, cid, ""), mirrorball("export", cid, "ei/app@" + image.manifestDigest(),
                    "-o", byCid.toString(), "--store", "-c", kuboStore.toString()));
            // --from: the X-Ipfs-Path of a manifest HEAD, then the gateway's /ipfs/<cid>?format=car
            Path fromGateway = tmp.resolve("from-gateway.car");
            assertEquals(new Run(0, cid, ""), mirrorball("export", "ei/app:v1", "-o", fromGateway.toString(),
                    "--from", kubo.uri().toString()));
            assertArrayEquals(Files.readAllBytes(byTag), Files.readAllBytes(fromGateway), "--from writes the same CAR");
            Run unknown = mirrorball("export", "ei/app:nope", "-o", fromGateway + "2", "--from", kubo.uri().toString());
            assertEquals(1, unknown.code(), unknown.toString());
            assertTrue(unknown.err().contains("ei/app:nope") && unknown.err().contains("404"), unknown.err());
            assertEquals(2, mirrorball("export", cid, "-o", fromGateway + "3", "--from", kubo.uri().toString(),
                    "--store").code());
        }
        assertArrayEquals(Files.readAllBytes(byTag), Files.readAllBytes(byCid), "one image, one CAR");
        assertFalse(Files.exists(tmp.resolve("by-tag.car.tmp")));

        Path fromEmbedded = tmp.resolve("from-embedded.car");
        try (GatewayServer embedded = gateway(embeddedStore)) {
            assertEquals(cid, push(embedded, image), "the CID is a function of the image");
            Run inUse = mirrorball("export", cid, "-o", fromEmbedded.toString(), "-c", embeddedStore.toString());
            assertEquals(3, inUse.code(), inUse.toString());
            assertTrue(inUse.err().contains("the store is in use by a running gateway"), inUse.err());
            assertFalse(Files.exists(fromEmbedded));
        }
        assertEquals(new Run(0, cid, ""), mirrorball("export", "ei/app:v1", "-o", fromEmbedded.toString(),
                "-c", embeddedStore.toString()));
        assertArrayEquals(Files.readAllBytes(byTag), Files.readAllBytes(fromEmbedded),
                "exports from Kubo and from the embedded node are equal byte for byte");

        Path target = store("target", "embedded");
        assertEquals(new Run(0, cid, ""), mirrorball("import", byTag.toString(), "-c", target.toString()));
        try (EmbeddedNode node = EmbeddedNode.open(target.getParent().resolve("ipfs"))) {
            assertTrue(node.pins().contains(Cid.parse(cid)), "the import pins the image: " + node.pins());
        }
        try (GatewayServer imported = gateway(target)) {
            Run inUse = mirrorball("import", byTag.toString(), "-c", target.toString());
            assertEquals(3, inUse.code(), inUse.toString());
            assertEquals("", inUse.out());
            assertTrue(inUse.err().contains("the store is in use by a running gateway"), inUse.err());
            assertPullByCid(imported, cid, image);
        }

        try (KuboNode other = KuboNode.start(tmp.resolve("other-kubo"))) {
            String answer = other.rpcWithFile("dag/import?pin-roots=true", Files.readAllBytes(byTag));
            assertTrue(answer.contains(cid), answer);
            assertTrue(other.rpc("pin/ls?type=recursive").contains(cid), "Kubo pinned the root");
            try (GatewayServer onKubo = gateway(store("other", other.apiUrl().toString()))) {
                assertPullByCid(onKubo, cid, image);
            }
        }
    }

    @Test
    void import_badCars_exit1NothingPinnedAndPullByCidNameUnknown() throws Exception {
        OciLayoutBuilder.Image image = image();
        Path source = store("source", "embedded");
        String cid;
        try (GatewayServer gateway = gateway(source)) {
            cid = push(gateway, image);
        }
        Path car = tmp.resolve("good.car");
        assertEquals(0, mirrorball("export", cid, "-o", car.toString(), "-c", source.toString()).code());
        byte[] good = Files.readAllBytes(car);
        List<Integer> sections = sectionStarts(good);
        int middle = sections.size() / 2;
        byte[] flipped = good.clone();
        flipped[sections.get(sections.size() - 1) - 10] ^= 0x01; // inside the second to last block

        Map<String, byte[]> bad = Map.of(
                "cut-mid-section", Arrays.copyOf(good, (sections.get(middle) + sections.get(middle + 1)) / 2),
                "cut-at-boundary", Arrays.copyOf(good, sections.get(sections.size() - 1)),
                "flipped-byte", flipped);
        for (Map.Entry<String, byte[]> entry : bad.entrySet()) {
            String what = entry.getKey();
            Path file = Files.write(tmp.resolve(what + ".car"), entry.getValue());
            Path target = store("target-" + what, "embedded");

            Run run = mirrorball("import", file.toString(), "-c", target.toString());

            assertEquals(1, run.code(), what + ": " + run);
            assertEquals("", run.out(), what);
            assertEquals(1, run.err().lines().count(), what + ": one line: " + run.err());
            assertTrue(run.err().startsWith("mirrorball import: "), what + ": " + run.err());
            assertFalse(run.err().contains("Exception"), what + ": " + run.err());
            if (what.equals("cut-at-boundary")) {
                assertTrue(run.err().contains("the CAR is incomplete (truncated?): image " + cid + " lacks block "),
                        run.err());
            }
            try (EmbeddedNode node = EmbeddedNode.open(target.getParent().resolve("ipfs"))) {
                assertEquals(List.of(), node.pins(), what);
            }
            try (GatewayServer gateway = gateway(target)) {
                HttpResponse<String> pull = manifest(gateway, cid, image.manifestDigest());
                assertEquals(404, pull.statusCode(), what + ": " + pull.body());
                assertTrue(pull.body().contains("NAME_UNKNOWN"), what + ": " + pull.body());
            }
        }
    }

    @Test
    void import_intoStoreOnKubo_badCarPinsNothing_goodCarPullableByCid() throws Exception {
        OciLayoutBuilder.Image image = image();
        Path source = store("source", KuboNode.shared().apiUrl().toString());
        Path car = tmp.resolve("image.car");
        String cid;
        try (GatewayServer gateway = gateway(source)) {
            cid = push(gateway, image);
        }
        assertEquals(0, mirrorball("export", cid, "-o", car.toString(), "-c", source.toString()).code());
        byte[] good = Files.readAllBytes(car);
        List<Integer> sections = sectionStarts(good);
        byte[] flipped = good.clone();
        flipped[sections.get(sections.size() - 1) - 10] ^= 0x01;

        try (KuboNode other = KuboNode.start(tmp.resolve("other-kubo"))) {
            Path target = store("target", other.apiUrl().toString());
            Run bad = mirrorball("import", Files.write(tmp.resolve("flipped.car"), flipped).toString(),
                    "-c", target.toString());
            assertEquals(1, bad.code(), bad.toString());
            assertEquals(1, bad.err().lines().count(), bad.err());
            assertFalse(other.rpc("pin/ls?type=recursive").contains(cid), "nothing pinned after a bad CAR");

            assertEquals(new Run(0, cid, ""), mirrorball("import", car.toString(), "-c", target.toString()));
            // regression: the clone's background pins, cut off when the store closed, left Kubo without the root's pin
            String pins = other.rpc("pin/ls?type=recursive");
            assertTrue(pins.contains(cid), "the import pins the image: " + pins);
            assertEquals(new Run(0, cid, ""), mirrorball("import", car.toString(), "-c", target.toString()));
            try (GatewayServer gateway = gateway(target)) {
                assertPullByCid(gateway, cid, image);
            }
        }
    }

    @Test
    void import_missingFile_exit1OneLine() throws Exception {
        Run run = mirrorball("import", tmp.resolve("absent.car").toString(), "-c", store("t", "embedded").toString());

        assertEquals(1, run.code());
        assertEquals("mirrorball import: no such file: " + tmp.resolve("absent.car"), run.err());
    }

    @Test
    void export_unknownImage_exit1OneLineAndNoFile() throws Exception {
        Path config = store("s", "embedded");
        Path car = tmp.resolve("x.car");

        Run run = mirrorball("export", "ei/none:v1", "-o", car.toString(), "-c", config.toString());

        assertEquals(1, run.code(), run.toString());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("mirrorball export: ") && run.err().contains("ei/none"), run.err());
        assertFalse(Files.exists(car));
        assertFalse(Files.exists(tmp.resolve("x.car.tmp")));
    }

    /** Offsets where each section of a CAR starts. */
    private static List<Integer> sectionStarts(byte[] car) {
        List<Integer> starts = new ArrayList<>();
        int[] pos = {0};
        long header = Varint.read(car, pos);
        pos[0] += (int) header;
        while (pos[0] < car.length) {
            starts.add(pos[0]);
            long length = Varint.read(car, pos);
            pos[0] += (int) length;
        }
        return starts;
    }
}
