package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.Varint;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ImageExporter and CarImporter between two stores on embedded nodes. */
final class CarImporterTest {
    private static final String ROOT = "/docker/registry/v2";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    @TempDir
    Path tmp;
    private EmbeddedNode sourceNode;
    private RegistryStore source;
    private EmbeddedNode targetNode;
    private RegistryStore target;

    @BeforeEach
    void open() throws Exception {
        sourceNode = EmbeddedNode.open(tmp.resolve("source-ipfs"));
        source = RegistryStore.open(sourceNode, ROOT, tmp.resolve("source-uploads"), Duration.ofHours(1), Clock.systemUTC());
        targetNode = EmbeddedNode.open(tmp.resolve("target-ipfs"));
        target = RegistryStore.open(targetNode, ROOT, tmp.resolve("target-uploads"), Duration.ofHours(1), Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        source.close();
        sourceNode.close();
        target.close();
        targetNode.close();
    }

    /** Pushes an image of a 600 KB layer (three leaves) and a config as name:tag; returns its manifest. */
    private byte[] push(RepositoryName name, String tag, String seed) throws Exception {
        byte[] layer = (seed + " layer ").repeat(60_000).getBytes(StandardCharsets.UTF_8);
        byte[] config = ("{\"os\":\"linux\",\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8);
        for (byte[] blob : List.of(layer, config)) {
            Digest d = Digest.ofBytes(blob);
            source.blobs().put(new ByteArrayInputStream(blob), d);
            source.blobs().link(name, d);
        }
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Digest.ofBytes(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + Digest.ofBytes(layer) + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        source.manifests().put(name, Reference.ofTag(tag), manifest, null);
        return manifest;
    }

    private Path export(String... images) throws Exception {
        ImageExporter exporter = ImageExporter.of(source);
        List<Cid> roots = new ArrayList<>();
        for (String image : images) {
            roots.add(exporter.resolve(image));
        }
        Path car = tmp.resolve("images.car");
        exporter.export(roots, car);
        return car;
    }

    private List<CarImporter.Outcome> importInto(byte[] car) throws Exception {
        return CarImporter.of(target, TIMEOUT).importCar(new ByteArrayInputStream(car));
    }

    private boolean visible(Cid cid) throws Exception {
        return targetNode.filesStat(ROOT + "/repositories/" + cid).isPresent();
    }

    @Test
    void exportThenImport_twoImagesByTagDigestAndCid_pullableByCidInTheOtherStore() throws Exception {
        RepositoryName app = RepositoryName.parse("org/app");
        byte[] one = push(app, "v1", "one");
        byte[] two = push(app, "v2", "two");
        Cid cidOne = source.publisher().publishedCid(Digest.ofBytes(one)).orElseThrow();
        Cid cidTwo = source.publisher().publishedCid(Digest.ofBytes(two)).orElseThrow();

        Path car = export("org/app:v1", "org/app@" + Digest.ofBytes(two), cidOne.toString());

        assertFalse(Files.exists(tmp.resolve("images.car.tmp")), "the temporary file is renamed");
        List<CarImporter.Outcome> outcomes;
        try (InputStream in = Files.newInputStream(car)) {
            outcomes = CarImporter.of(target, TIMEOUT).importCar(in);
        }
        assertEquals(List.of(new CarImporter.Outcome(cidOne, java.util.Optional.empty()),
                new CarImporter.Outcome(cidTwo, java.util.Optional.empty())), outcomes, "duplicates written once");
        assertTrue(targetNode.pins().containsAll(List.of(cidOne, cidTwo)), "roots pinned: " + targetNode.pins());
        for (Cid cid : List.of(cidOne, cidTwo)) {
            assertTrue(visible(cid));
        }
        StoredManifest got = target.manifests().get(RepositoryName.parse(cidTwo.toString()),
                Reference.ofDigest(Digest.ofBytes(two)));
        assertArrayEquals(two, got.content());
        Digest layer = Digest.ofBytes("two layer ".repeat(60_000).getBytes(StandardCharsets.UTF_8));
        assertTrue(target.blobs().stat(layer).isPresent(), "the layer was placed in the target's blob store");
        // importing the same CAR again changes nothing and succeeds
        assertTrue(importInto(Files.readAllBytes(car)).stream().allMatch(CarImporter.Outcome::imported));
    }

    @Test
    void resolve_unknownNamesAndCids_clearErrors() throws Exception {
        push(RepositoryName.parse("org/app"), "v1", "one");
        ImageExporter exporter = ImageExporter.of(source);

        assertEquals(OciErrorCode.MANIFEST_UNKNOWN,
                assertThrows(OciException.class, () -> exporter.resolve("org/app:nope")).code());
        OciException unknownName = assertThrows(OciException.class, () -> exporter.resolve("org/other:v1"));
        assertTrue(unknownName.getMessage().contains("org/other"), unknownName.getMessage());
        Cid absent = Cid.sha256(Cid.RAW, Digest.ofBytes("absent".getBytes(StandardCharsets.UTF_8)).bytes());
        OciException e = assertThrows(OciException.class, () -> exporter.resolve(absent.toString()));
        assertEquals(OciErrorCode.NAME_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains(absent.toString()), e.getMessage());
    }

    @Test
    void export_failing_leavesNoFile() throws Exception {
        Cid absent = Cid.sha256(Cid.RAW, Digest.ofBytes("absent".getBytes(StandardCharsets.UTF_8)).bytes());
        Path car = tmp.resolve("x.car");

        assertThrows(Exception.class, () -> ImageExporter.of(source).export(List.of(absent), car));

        assertFalse(Files.exists(car));
        assertFalse(Files.exists(tmp.resolve("x.car.tmp")));
    }

    @Test
    void importCar_cutMidSection_refusedNothingPinnedOrVisible() throws Exception {
        byte[] manifest = push(RepositoryName.parse("org/app"), "v1", "one");
        Cid cid = source.publisher().publishedCid(Digest.ofBytes(manifest)).orElseThrow();
        byte[] car = Files.readAllBytes(export(cid.toString()));
        List<Integer> boundaries = sectionBoundaries(car);

        int middle = boundaries.size() / 2; // cut halfway through that section
        byte[] cut = Arrays.copyOf(car, (boundaries.get(middle) + boundaries.get(middle + 1)) / 2);

        assertThrows(IpfsException.class, () -> importInto(cut));
        assertEquals(List.of(), targetNode.pins());
        assertFalse(visible(cid));
    }

    @Test
    void importCar_cutAtSectionBoundary_refusedAsIncomplete() throws Exception {
        byte[] manifest = push(RepositoryName.parse("org/app"), "v1", "one");
        Cid cid = source.publisher().publishedCid(Digest.ofBytes(manifest)).orElseThrow();
        byte[] car = Files.readAllBytes(export(cid.toString()));
        List<Integer> boundaries = sectionBoundaries(car);

        byte[] cut = Arrays.copyOf(car, boundaries.get(boundaries.size() - 2)); // the last section is gone
        List<CarImporter.Outcome> outcomes = importInto(cut);

        assertEquals(1, outcomes.size());
        String failure = outcomes.get(0).failure().orElseThrow();
        assertTrue(failure.startsWith("the CAR is incomplete (truncated?): image " + cid + " lacks block "), failure);
        assertEquals(List.of(), targetNode.pins());
        assertFalse(visible(cid));
    }

    @Test
    void importCar_flippedByteInABlock_refusedNothingPinnedOrVisible() throws Exception {
        byte[] manifest = push(RepositoryName.parse("org/app"), "v1", "one");
        Cid cid = source.publisher().publishedCid(Digest.ofBytes(manifest)).orElseThrow();
        byte[] car = Files.readAllBytes(export(cid.toString()));
        List<Integer> boundaries = sectionBoundaries(car);

        byte[] bad = car.clone();
        int at = boundaries.get(boundaries.size() - 2) - 10; // inside the data of the second to last block
        bad[at] ^= 0x01;

        IpfsException e = assertThrows(IpfsException.class, () -> importInto(bad));
        assertEquals(IpfsException.Kind.CORRUPT, e.kind(), e.toString());
        assertEquals(List.of(), targetNode.pins());
        assertFalse(visible(cid));
    }

    @Test
    void importCar_rootThatIsNotAnImage_failsAndUnpins() throws Exception {
        Cid file = sourceNode.add(new ByteArrayInputStream("just a file".getBytes(StandardCharsets.UTF_8))).cid();
        Path car = tmp.resolve("file.car");
        ImageExporter.of(source).export(List.of(ImageExporter.of(source).resolve(file.toString())), car);

        List<CarImporter.Outcome> outcomes = importInto(Files.readAllBytes(car));

        assertFalse(outcomes.get(0).imported());
        assertTrue(outcomes.get(0).failure().orElseThrow().contains("not a mirrorball image"), outcomes.toString());
        assertEquals(List.of(), targetNode.pins());
        assertFalse(visible(file));
    }

    /** Offsets where each section starts, then the end of the CAR. */
    static List<Integer> sectionBoundaries(byte[] car) {
        List<Integer> starts = new ArrayList<>();
        int[] pos = {0};
        long header = Varint.read(car, pos);
        pos[0] += (int) header;
        while (pos[0] < car.length) {
            starts.add(pos[0]);
            long length = Varint.read(car, pos);
            pos[0] += (int) length;
        }
        starts.add(car.length);
        return starts;
    }
}
