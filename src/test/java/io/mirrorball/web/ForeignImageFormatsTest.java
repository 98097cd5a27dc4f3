package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images other programs put on IPFS, pulled through the gateway by their CID on real Kubo: ipdr's image
 * directories (both generations) and nerdctl's descriptors, each built on the node exactly as that program
 * lays it out (docs/formats.md); crafted ones that map a digest to other bytes are refused and leave nothing
 * in the store.
 */
final class ForeignImageFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private IpfsNode node;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp);
        node = gateway.gateway().node();
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private OciLayoutBuilder.Image image(long seed) {
        // one layer over 256 KiB (a UnixFS file of several blocks), one in a single raw block
        return OciLayoutBuilder.at(tmp.resolve("image-" + seed)).seed(seed).layer(300_000, true).layer(5_000, true)
                .build("1");
    }

    private static byte[] blob(OciLayoutBuilder.Image image, Digest digest) throws Exception {
        return Files.readAllBytes(image.dir().resolve("blobs/sha256/" + digest.hex()));
    }

    private Cid add(byte[] content) throws Exception {
        try (InputStream in = new ByteArrayInputStream(content)) {
            return node.add(in).cid();
        }
    }

    /** A UnixFS directory of these entries (path to CID), built in MFS outside the gateway's root. */
    private Cid directory(Map<String, Cid> entries) throws Exception {
        String root = "/foreign-" + UUID.randomUUID();
        for (Map.Entry<String, Cid> e : entries.entrySet()) {
            String path = root + "/" + e.getKey();
            node.filesMkdir(path.substring(0, path.lastIndexOf('/')));
            node.filesCp("/ipfs/" + e.getValue(), path);
        }
        return node.filesStat(root).orElseThrow().cid();
    }

    /** ipdr v0.1.7's directory: blobs/sha256:<hex> per config and layer, the manifest under each of {@code names}. */
    private Map<String, Cid> ipdrEntries(OciLayoutBuilder.Image image, List<String> names) throws Exception {
        Map<String, Cid> entries = new LinkedHashMap<>();
        entries.put("blobs/" + image.config().digest(), add(blob(image, image.config().digest())));
        for (Digest layer : image.layerDigests()) {
            entries.put("blobs/" + layer, add(blob(image, layer)));
        }
        Cid manifest = add(blob(image, image.manifestDigest()));
        for (String name : names) {
            entries.put("manifests/" + name, manifest);
        }
        return entries;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway.uri() + path)).timeout(Duration.ofSeconds(60))
                .header("Accept", MediaTypes.OCI_MANIFEST + ", " + MediaTypes.OCI_INDEX).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Pulls {@code ref} with skopeo into a dir: copy and checks every blob against the image. */
    private void assertPulls(String ref, OciLayoutBuilder.Image image) throws Exception {
        Path out = tmp.resolve("out-" + UUID.randomUUID());
        Skopeo.in(tmp.resolve("skopeo")).copy("docker://" + gateway.uri().getAuthority() + "/" + ref, "dir:" + out);
        assertArrayEquals(blob(image, image.manifestDigest()), Files.readAllBytes(out.resolve("manifest.json")), ref);
        for (Digest layer : image.layerDigests()) {
            assertArrayEquals(blob(image, layer), Files.readAllBytes(out.resolve(layer.hex())), ref + " layer " + layer);
        }
    }

    private void assertRefused(String ref, Digest notStored) throws Exception {
        HttpResponse<String> response = get("/v2/" + ref.replace(":", "/manifests/"));
        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().contains("MANIFEST_INVALID") && response.body().contains("not a valid image"),
                response.body());
        assertTrue(gateway.gateway().store().blobs().stat(notStored).isEmpty(), notStored + " never stored");
    }

    @Test
    void pull_ipdrImage_byCidTagAndDigest() throws Exception {
        OciLayoutBuilder.Image image = image(1);
        Cid cid = directory(ipdrEntries(image, List.of("latest", "v1", image.manifestDigest().toString())));

        assertPulls(cid + ":v1", image);
        assertPulls(cid + ":latest", image);
        assertPulls(cid + "@" + image.manifestDigest(), image);
        String tags = Skopeo.in(tmp.resolve("skopeo")).listTags("docker://" + gateway.uri().getAuthority() + "/" + cid);
        assertTrue(tags.contains("\"v1\"") && tags.contains("\"latest\""), tags);
    }

    @Test
    void pull_oldIpdrImage_byCiqNameWithLatestV2AndConfigInADirectory() throws Exception {
        OciLayoutBuilder.Image image = image(2);
        Map<String, Cid> entries = ipdrEntries(image, List.of("latest-v2"));
        Cid config = entries.remove("blobs/" + image.config().digest());
        entries.put("blobs/" + image.config().digest() + "/" + image.config().digest().hex() + ".json", config);
        Cid cid = directory(entries);

        assertPulls(cid.toIpdr() + ":latest", image);
    }

    /** nerdctl's layout: descriptors with ipfs:// urls; the manifest rewritten to carry them; a descriptor on top. */
    private Cid nerdctlImage(OciLayoutBuilder.Image image, Map<Digest, Cid> overrides) throws Exception {
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", descriptor(MediaTypes.OCI_CONFIG, image.config().digest(), image.config().size(),
                overrides.getOrDefault(image.config().digest(), add(blob(image, image.config().digest())))));
        ArrayNode layers = manifest.putArray("layers");
        for (OciLayoutBuilder.Blob layer : image.layers()) {
            layers.add(descriptor(layer.mediaType(), layer.digest(), layer.size(),
                    overrides.getOrDefault(layer.digest(), add(blob(image, layer.digest())))));
        }
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        ObjectNode top = descriptor(MediaTypes.OCI_MANIFEST, Digest.ofBytes(bytes), bytes.length, add(bytes));
        top.putObject("annotations").put("io.containerd.image.name", "docker.io/library/app:1");
        return add(JSON.writeValueAsBytes(top));
    }

    private static ObjectNode descriptor(String mediaType, Digest digest, long size, Cid cid) {
        ObjectNode descriptor = JSON.createObjectNode();
        descriptor.put("mediaType", mediaType);
        descriptor.put("digest", digest.toString());
        descriptor.put("size", size);
        descriptor.putArray("urls").add("ipfs://" + cid);
        return descriptor;
    }

    @Test
    void pull_nerdctlImage_byCidAndIpfsName() throws Exception {
        OciLayoutBuilder.Image image = image(3);
        Cid cid = nerdctlImage(image, Map.of());
        assertTrue(cid.toString().startsWith("bafkrei"), "a raw block, as nerdctl's: " + cid);

        HttpResponse<String> manifest = get("/v2/" + cid + "/manifests/latest");
        assertEquals(200, manifest.statusCode(), manifest.body());
        String digest = manifest.headers().firstValue("Docker-Content-Digest").orElseThrow();
        assertEquals(Digest.ofBytes(manifest.body().getBytes(StandardCharsets.UTF_8)).toString(), digest);
        assertEquals(200, get("/v2/ipfs/" + cid + "/manifests/latest").statusCode(), "nerdctl's ipfs/<cid> name");
        Path out = tmp.resolve("nerdctl-out");
        Skopeo.in(tmp.resolve("skopeo")).copy("docker://" + gateway.uri().getAuthority() + "/ipfs/" + cid + ":latest",
                "dir:" + out);
        for (Digest layer : image.layerDigests()) {
            assertArrayEquals(blob(image, layer), Files.readAllBytes(out.resolve(layer.hex())));
        }
    }

    @Test
    void pull_craftedImages_refusedNothingStored() throws Exception {
        OciLayoutBuilder.Image image = image(4);
        Digest layer = image.layerDigests().get(1);
        byte[] other = blob(image, layer).clone();
        other[other.length / 2] ^= 1; // the same size, other bytes

        Map<String, Cid> lying = ipdrEntries(image, List.of("latest"));
        lying.put("blobs/" + layer, add(other));
        assertRefused(directory(lying) + ":latest", layer);

        Map<String, Cid> wrongManifest = ipdrEntries(image, List.of("latest"));
        wrongManifest.put("manifests/" + Digest.ofBytes("x".getBytes(StandardCharsets.UTF_8)),
                wrongManifest.get("manifests/latest"));
        assertRefused(directory(wrongManifest) + ":latest", layer);

        assertRefused(nerdctlImage(image, Map.of(layer, add(other))) + ":latest", layer);
        Cid path = Cid.parse(nerdctlImage(image, Map.of()).toString()); // a url with a path below its CID
        byte[] top = node.cat(path.toString(), 0, -1).readAllBytes();
        String withPath = new String(top, StandardCharsets.UTF_8).replaceFirst("\"ipfs://([a-z0-9]+)\"",
                "\"ipfs://$1/x\"");
        assertRefused(add(withPath.getBytes(StandardCharsets.UTF_8)) + ":latest", layer);
    }
}
