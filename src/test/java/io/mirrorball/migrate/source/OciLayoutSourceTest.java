package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.testing.OciLayoutBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class OciLayoutSourceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path layout() {
        return tmp.resolve("My_Layout");
    }

    private static Descriptor layerDescriptor(OciLayoutBuilder.Blob blob) {
        return Descriptor.of(blob.mediaType(), blob.digest(), blob.size());
    }

    /** Reads the whole stream through a digest, as a copier would, and returns the hex digest. */
    private static String drain(InputStream in) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), md)) {
            in.transferTo(out);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            int b = raf.read();
            raf.seek(position);
            raf.write(b ^ 0x01);
        }
    }

    private static Path blobFile(Path dir, Digest digest) {
        return dir.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    @Test
    void images_withTag_isThatEntry() throws IOException {
        OciLayoutBuilder.at(layout()).layer(1000, true).build("v1");
        OciLayoutBuilder.Image v2 = OciLayoutBuilder.at(layout()).seed(2).layer(2000, false).build("v2");
        try (OciLayoutSource source = OciLayoutSource.open(
                (SourceRef.OciLayout) SourceRefParser.parse("oci:" + layout() + ":v2", null, null))) {
            assertEquals(List.of(new ImageTask("oci:" + layout() + ":v2", "my_layout", Reference.ofTag("v2"), "my_layout")),
                    source.tasks());
            Fetched fetched = source.manifest("my_layout", Reference.ofTag("v2"));
            assertEquals(v2.manifestDigest(), fetched.digest());
            assertEquals(MediaTypes.OCI_MANIFEST, fetched.mediaType());
            assertEquals(v2.layerDigests(), fetched.parse().layers().stream().map(Descriptor::digest).toList());
        }
    }

    @Test
    void images_withoutTag_everyEntryByRefNameOrDigest() throws IOException {
        OciLayoutBuilder.Image v1 = OciLayoutBuilder.at(layout()).layer(1000, true).build("v1");
        OciLayoutBuilder.Image v2 = OciLayoutBuilder.at(layout()).seed(2).layer(500, true).build("v2");
        ObjectNode index = (ObjectNode) JSON.readTree(layout().resolve("index.json").toFile());
        ((ObjectNode) index.get("manifests").get(1)).remove("annotations");
        Files.write(layout().resolve("index.json"), JSON.writeValueAsBytes(index));
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty())) {
            List<ImageTask> tasks = source.tasks();
            assertEquals(2, tasks.size());
            assertEquals(Reference.ofTag("v1"), tasks.get(0).reference());
            assertEquals("oci:" + layout() + ":v1", tasks.get(0).source());
            assertEquals(Reference.ofDigest(v2.manifestDigest()), tasks.get(1).reference());
            assertEquals("oci:" + layout() + "@" + v2.manifestDigest(), tasks.get(1).source());
            assertEquals(v1.manifestDigest(), source.manifest("my_layout", Reference.ofTag("v1")).digest());
            assertEquals(v2.manifestDigest(),
                    source.manifest("my_layout", Reference.ofDigest(v2.manifestDigest())).digest());
        }
    }

    @Test
    void images_multiArch_childrenByDigest() throws IOException {
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(layout()).layer(300, true).buildMultiArch("all");
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.of("all"))) {
            Fetched index = source.manifest("my_layout", Reference.ofTag("all"));
            assertEquals(multi.indexDigest(), index.digest());
            assertEquals(MediaTypes.OCI_INDEX, index.mediaType());
            Digest child = multi.platforms().get(1).manifestDigest();
            assertEquals(child, source.manifest("my_layout", Reference.ofDigest(child)).digest());
        }
    }

    @Test
    void images_unknownTag_isNotFound() {
        OciLayoutBuilder.at(layout()).layer(100, true).build("v1");
        MigrateException e = assertThrows(MigrateException.class, () -> OciLayoutSource.open(layout(), Optional.of("v9")));
        assertEquals(FailureKind.NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("v9"), e.getMessage());
    }

    @Test
    void blob_wholeAndFromOffset_streamsCheckedBytes() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(200_000, false).build("v1");
        OciLayoutBuilder.Blob layer = image.layers().get(0);
        byte[] whole = Files.readAllBytes(blobFile(layout(), layer.digest()));
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty())) {
            try (BlobStream blob = source.blob("my_layout", layerDescriptor(layer), 0)) {
                assertEquals(0, blob.offset());
                assertEquals(layer.digest().hex(), drain(blob.in()));
            }
            try (BlobStream blob = source.blob("my_layout", layerDescriptor(layer), 150_001)) {
                assertEquals(150_001, blob.offset());
                byte[] rest = blob.in().readAllBytes();
                assertArrayEquals(java.util.Arrays.copyOfRange(whole, 150_001, whole.length), rest);
            }
        }
    }

    @Test
    void blob_tamperedByte_failsBeforeEndIsReported() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(100_000, true).build("v1");
        OciLayoutBuilder.Blob layer = image.layers().get(0);
        flipByte(blobFile(layout(), layer.digest()), layer.size() / 2);
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty());
             BlobStream blob = source.blob("my_layout", layerDescriptor(layer), 0)) {
            MigrateException e = assertThrows(MigrateException.class, () -> blob.in().readNBytes((int) layer.size()));
            assertEquals(FailureKind.INVALID_SOURCE, e.kind());
            assertTrue(e.getMessage().contains(layer.digest().toString()), e.getMessage());
        }
    }

    @Test
    void blob_tamperedBeforeOffset_stillFails() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(100_000, true).build("v1");
        OciLayoutBuilder.Blob layer = image.layers().get(0);
        flipByte(blobFile(layout(), layer.digest()), 10);
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty());
             BlobStream blob = source.blob("my_layout", layerDescriptor(layer), layer.size() - 100)) {
            MigrateException e = assertThrows(MigrateException.class, () -> blob.in().readAllBytes());
            assertEquals(FailureKind.INVALID_SOURCE, e.kind());
        }
    }

    @Test
    void blob_truncatedOrLonger_fails() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(10_000, true).build("v1");
        OciLayoutBuilder.Blob layer = image.layers().get(0);
        Path file = blobFile(layout(), layer.digest());
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty())) {
            Descriptor shorter = Descriptor.of(layer.mediaType(), layer.digest(), layer.size() - 1);
            try (BlobStream blob = source.blob("my_layout", shorter, 0)) {
                assertEquals(FailureKind.INVALID_SOURCE,
                        assertThrows(MigrateException.class, () -> blob.in().readAllBytes()).kind());
            }
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(layer.size() - 7);
            }
            try (BlobStream blob = source.blob("my_layout", layerDescriptor(layer), 0)) {
                MigrateException e = assertThrows(MigrateException.class, () -> blob.in().readAllBytes());
                assertTrue(e.getMessage().contains("ends after"), e.getMessage());
            }
            Files.delete(file);
            assertEquals(FailureKind.INVALID_SOURCE, assertThrows(MigrateException.class,
                    () -> source.blob("my_layout", layerDescriptor(layer), 0)).kind());
        }
    }

    @Test
    void blob_empty_isCheckedToo() throws IOException {
        OciLayoutBuilder.at(layout()).layer(100, true).build("v1");
        Digest emptyDigest = Digest.ofBytes(new byte[0]);
        Files.write(blobFile(layout(), emptyDigest), new byte[0]);
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty())) {
            try (BlobStream blob = source.blob("my_layout", Descriptor.of("x/y", emptyDigest, 0), 0)) {
                assertEquals(-1, blob.in().read());
            }
            Files.write(blobFile(layout(), emptyDigest), new byte[] {1});
            MigrateException e = assertThrows(MigrateException.class,
                    () -> source.blob("my_layout", Descriptor.of("x/y", emptyDigest, 0), 0).in().read());
            assertEquals(FailureKind.INVALID_SOURCE, e.kind());
        }
    }

    @Test
    void manifest_tampered_isInvalidSource() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(100, true).build("v1");
        flipByte(blobFile(layout(), image.manifestDigest()), 20);
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.empty())) {
            MigrateException e = assertThrows(MigrateException.class,
                    () -> source.manifest("my_layout", Reference.ofTag("v1")));
            assertEquals(FailureKind.INVALID_SOURCE, e.kind());
        }
    }

    @Test
    void open_missingOrCorruptIndex_isInvalidSourceNamingTheFile() throws IOException {
        assertEquals(FailureKind.NOT_FOUND, assertThrows(MigrateException.class,
                () -> OciLayoutSource.open(layout(), Optional.empty())).kind());
        Files.createDirectories(layout());
        MigrateException missing = assertThrows(MigrateException.class, () -> OciLayoutSource.open(layout(), Optional.empty()));
        assertEquals(FailureKind.INVALID_SOURCE, missing.kind());
        assertTrue(missing.getMessage().contains(layout() + " is not an OCI image layout"), missing.getMessage());
        Files.writeString(layout().resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[");
        MigrateException corrupt = assertThrows(MigrateException.class, () -> OciLayoutSource.open(layout(), Optional.empty()));
        assertEquals(FailureKind.INVALID_SOURCE, corrupt.kind());
        assertTrue(corrupt.getMessage().contains("index.json of " + layout()), corrupt.getMessage());
    }

    @Test
    void referrers_manifestsWithThatSubject() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(layout()).layer(100, true).build("v1");
        Digest empty = writeBlob(layout(), "{}".getBytes(StandardCharsets.UTF_8));
        String referrer = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
                + "\"artifactType\":\"application/vnd.example.sbom\","
                + "\"config\":{\"mediaType\":\"" + MediaTypes.OCI_EMPTY + "\",\"digest\":\"" + empty + "\",\"size\":2},"
                + "\"layers\":[],\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\""
                + image.manifestDigest() + "\",\"size\":" + image.manifest().size() + "}}";
        byte[] bytes = referrer.getBytes(StandardCharsets.UTF_8);
        Digest digest = writeBlob(layout(), bytes);
        ObjectNode index = (ObjectNode) JSON.readTree(layout().resolve("index.json").toFile());
        ObjectNode entry = ((ArrayNode) index.get("manifests")).addObject();
        entry.put("mediaType", MediaTypes.OCI_MANIFEST).put("digest", digest.toString()).put("size", bytes.length);
        Files.write(layout().resolve("index.json"), JSON.writeValueAsBytes(index));
        try (OciLayoutSource source = OciLayoutSource.open(layout(), Optional.of("v1"))) {
            List<Descriptor> found = source.referrers("my_layout", image.manifestDigest());
            assertEquals(1, found.size());
            assertEquals(digest, found.get(0).digest());
            assertEquals(bytes.length, found.get(0).size());
            assertEquals("application/vnd.example.sbom", found.get(0).artifactType());
            assertEquals(List.of(), source.referrers("my_layout", digest));
        }
    }

    private static Digest writeBlob(Path dir, byte[] bytes) throws IOException {
        Digest digest = Digest.ofBytes(bytes);
        Files.write(blobFile(dir, digest), bytes);
        return digest;
    }

    @ParameterizedTest
    @CsvSource({"My_Layout, my_layout", "app.tar, app", "Web App (v2), web-app-v2", "__x--y..z__, x-y-z",
            "'---', image", "ümlaut, mlaut", "a.b_c-d, a.b_c-d"})
    void destinationName_sanitisesBaseName(String base, String expected) {
        assertEquals(expected, OciLayoutSource.destinationName(Path.of("/tmp", base)));
    }
}
