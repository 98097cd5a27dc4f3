package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DockerArchiveSourceTest {
    @TempDir
    Path tmp;

    /** One tar entry: a file from disk or bytes, or a symbolic link. */
    private record Entry(String name, Path file, byte[] bytes, String link) {
        static Entry file(String name, Path file) {
            return new Entry(name, file, null, null);
        }

        static Entry bytes(String name, String text) {
            return new Entry(name, null, text.getBytes(StandardCharsets.UTF_8), null);
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, null, null, target);
        }
    }

    private static void writeTar(Path tar, List<Entry> entries) throws IOException {
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry e : entries) {
                if (e.link() != null) {
                    TarArchiveEntry entry = new TarArchiveEntry(e.name(), TarConstants.LF_SYMLINK);
                    entry.setLinkName(e.link());
                    out.putArchiveEntry(entry);
                } else {
                    TarArchiveEntry entry = new TarArchiveEntry(e.name());
                    entry.setSize(e.file() != null ? Files.size(e.file()) : e.bytes().length);
                    out.putArchiveEntry(entry);
                    if (e.file() != null) {
                        Files.copy(e.file(), out);
                    } else {
                        out.write(e.bytes());
                    }
                }
                out.closeArchiveEntry();
            }
        }
    }

    private static Path blobFile(Path dir, Digest digest) {
        return dir.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    private static String drain(InputStream in) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), md)) {
            in.transferTo(out);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private Source open(Path tar) throws IOException {
        return DockerArchiveSource.open((SourceRef.DockerArchive) SourceRefParser.parse("docker-archive:" + tar, null, null));
    }

    /** A legacy docker save archive of {@code image} (plain tar layers): config, layers (the first through a symlink and a long name). */
    private Path legacyArchive(OciLayoutBuilder.Image image, String repoTags, Path tar) throws IOException {
        Path dir = image.dir();
        String longDir = "x".repeat(120);
        List<Entry> entries = new ArrayList<>();
        entries.add(Entry.file(image.config().digest().hex() + ".json", blobFile(dir, image.config().digest())));
        entries.add(Entry.file("shared/real.tar", blobFile(dir, image.layers().get(0).digest())));
        entries.add(Entry.symlink("l0/layer.tar", "../shared/real.tar"));
        entries.add(Entry.file(longDir + "/layer.tar", blobFile(dir, image.layers().get(1).digest())));
        entries.add(Entry.bytes("manifest.json", "[{\"Config\":\"" + image.config().digest().hex() + ".json\","
                + "\"RepoTags\":" + repoTags + ",\"Layers\":[\"l0/layer.tar\",\"" + longDir + "/layer.tar\"]}]"));
        writeTar(tar, entries);
        return tar;
    }

    @Test
    void open_manifestJson_generatesDockerManifestFromDiffIds() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(70_000, false)
                .layer(3_000, false).build("v1");
        Path tar = legacyArchive(image, "[\"example.com/team/app:1.0\",\"alpine:3\"]", tmp.resolve("save.tar"));
        Digest first;
        try (Source source = open(tar)) {
            List<ImageTask> tasks = new ArrayList<>();
            source.images().forEachRemaining(tasks::add);
            assertEquals(List.of(
                    new ImageTask("docker-archive:" + tar + ":example.com/team/app:1.0", "team/app", Reference.ofTag("1.0"), "team/app"),
                    new ImageTask("docker-archive:" + tar + ":alpine:3", "alpine", Reference.ofTag("3"), "alpine")), tasks);
            Fetched fetched = source.manifest("team/app", Reference.ofTag("1.0"));
            assertEquals(MediaTypes.DOCKER_MANIFEST, fetched.mediaType());
            assertEquals(Digest.ofBytes(fetched.bytes()), fetched.digest());
            Manifest manifest = fetched.parse();
            assertEquals(image.config().digest(), manifest.config().digest());
            assertEquals(MediaTypes.DOCKER_CONFIG, manifest.config().mediaType());
            assertEquals(image.layers().stream().map(OciLayoutBuilder.Blob::diffId).toList(),
                    manifest.layers().stream().map(Descriptor::digest).toList());
            assertEquals(List.of(DockerArchiveSource.LAYER_TAR, DockerArchiveSource.LAYER_TAR),
                    manifest.layers().stream().map(Descriptor::mediaType).toList());
            for (Descriptor blob : manifest.blobs()) {
                try (BlobStream stream = source.blob("team/app", blob, 0)) {
                    assertEquals(blob.digest().hex(), drain(stream.in()));
                }
            }
            assertEquals(fetched, source.manifest("alpine", Reference.ofDigest(fetched.digest())));
            assertEquals(List.of(), source.referrers("alpine", fetched.digest()));
            first = fetched.digest();
        }
        try (Source again = open(tar)) {
            assertEquals(first, again.manifest("alpine", Reference.ofTag("3")).digest());
        }
    }

    @Test
    void open_noRepoTags_byDigestIntoFileName() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(1_000, false)
                .layer(2_000, false).build("v1");
        Path tar = legacyArchive(image, "null", tmp.resolve("Saved Image.tar"));
        try (Source source = open(tar)) {
            ImageTask task = source.images().next();
            assertEquals("saved-image", task.destination());
            assertTrue(task.reference().isDigest());
            assertEquals(task.reference().digest(), source.manifest(task.repository(), task.reference()).digest());
        }
    }

    @Test
    void open_indexJson_isOciLayoutByteIdentical() throws IOException {
        Path dir = tmp.resolve("layout");
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(dir).layer(5_000, true).build("v1");
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                entries.add(Entry.file("./" + dir.relativize(file), file));
            }
        }
        Path tar = tmp.resolve("oci.tar");
        writeTar(tar, entries);
        try (Source source = open(tar)) {
            assertInstanceOf(OciLayoutSource.class, source);
            ImageTask task = source.images().next();
            assertEquals(Reference.ofTag("v1"), task.reference());
            assertEquals("oci", task.destination());
            Fetched fetched = source.manifest(task.repository(), task.reference());
            assertArrayEquals(Files.readAllBytes(blobFile(dir, image.manifestDigest())), fetched.bytes());
            OciLayoutBuilder.Blob layer = image.layers().get(0);
            try (BlobStream stream = source.blob(task.repository(),
                    Descriptor.of(layer.mediaType(), layer.digest(), layer.size()), 0)) {
                assertEquals(layer.digest().hex(), drain(stream.in()));
            }
        }
    }

    @Test
    void open_docker25Archive_containerdImageNameGivesRepositoryAndTag() throws IOException {
        Path dir = tmp.resolve("layout");
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(dir).layer(2_000, false).build("3.19");
        Path indexFile = dir.resolve("index.json");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode index =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(indexFile.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) index.get("manifests").get(0).get("annotations"))
                .put("io.containerd.image.name", "docker.io/library/alpine:3.19");
        Files.write(indexFile, json.writeValueAsBytes(index));
        Path tar = tmp.resolve("alpine.tar");
        writeTar(tar, List.of(Entry.file("index.json", indexFile), Entry.file("oci-layout", dir.resolve("oci-layout")),
                Entry.file("blobs/sha256/" + image.manifestDigest().hex(), blobFile(dir, image.manifestDigest())),
                Entry.bytes("manifest.json", "[]")));
        try (Source source = open(tar)) {
            ImageTask task = source.images().next();
            assertEquals(new ImageTask("docker-archive:" + tar + ":3.19", "alpine", Reference.ofTag("3.19"), "alpine"),
                    task);
            assertEquals(image.manifestDigest(), source.manifest("alpine", Reference.ofTag("3.19")).digest());
        }
    }

    @Test
    void open_gzipFile_isInvalidSourceAskingToGunzip() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(1_000, false)
                .layer(1_000, false).build("v1");
        Path tar = legacyArchive(image, "[\"app:1\"]", tmp.resolve("save.tar"));
        Path gz = tmp.resolve("save.tar.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            Files.copy(tar, out);
        }
        MigrateException e = assertThrows(MigrateException.class, () -> open(gz));
        assertEquals(FailureKind.INVALID_SOURCE, e.kind());
        assertTrue(e.getMessage().contains("compressed archive: gunzip it first"), e.getMessage());
    }

    @Test
    void open_truncatedArchive_isInvalidSource() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(100_000, false)
                .layer(1_000, false).build("v1");
        Path tar = legacyArchive(image, "[\"app:1\"]", tmp.resolve("save.tar"));
        try (RandomAccessFile raf = new RandomAccessFile(tar.toFile(), "rw")) {
            raf.setLength(60_000);
        }
        MigrateException e = assertThrows(MigrateException.class, () -> open(tar));
        assertEquals(FailureKind.INVALID_SOURCE, e.kind());
    }

    @Test
    void open_missingFileOrNoManifest_fails() throws IOException {
        assertEquals(FailureKind.NOT_FOUND,
                assertThrows(MigrateException.class, () -> open(tmp.resolve("none.tar"))).kind());
        Path tar = tmp.resolve("empty.tar");
        writeTar(tar, List.of(Entry.bytes("hello.txt", "hi")));
        MigrateException e = assertThrows(MigrateException.class, () -> open(tar));
        assertEquals(FailureKind.INVALID_SOURCE, e.kind());
        assertTrue(e.getMessage().contains("neither index.json nor manifest.json"), e.getMessage());
    }

    @Test
    void blob_tamperedLayer_failsWhileStreaming() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(50_000, false)
                .layer(1_000, false).build("v1");
        Path layer = blobFile(image.dir(), image.layers().get(0).digest());
        try (RandomAccessFile raf = new RandomAccessFile(layer.toFile(), "rw")) {
            raf.seek(20_000);
            int b = raf.read();
            raf.seek(20_000);
            raf.write(b ^ 0x40);
        }
        Path tar = legacyArchive(image, "[\"app:1\"]", tmp.resolve("save.tar"));
        try (Source source = open(tar)) {
            Descriptor first = source.manifest("app", Reference.ofTag("1")).parse().layers().get(0);
            try (BlobStream stream = source.blob("app", first, 0)) {
                MigrateException e = assertThrows(MigrateException.class, () -> drain(stream.in()));
                assertEquals(FailureKind.INVALID_SOURCE, e.kind());
            }
        }
    }

    @Test
    void blob_interleavedStreams_eachReadsItsOwnEntry() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(300_000, false)
                .layer(200_000, false).build("v1");
        Path tar = legacyArchive(image, "[\"app:1\"]", tmp.resolve("save.tar"));
        try (Source source = open(tar)) {
            List<Descriptor> layers = source.manifest("app", Reference.ofTag("1")).parse().layers();
            MessageDigest md = Digest.newSha256();
            try (BlobStream a = source.blob("app", layers.get(0), 0)) {
                md.update(a.in().readNBytes(100_000));
                try (BlobStream b = source.blob("app", layers.get(1), 0)) {
                    assertEquals(layers.get(1).digest().hex(), drain(b.in()));
                }
                md.update(a.in().readAllBytes());
            }
            assertEquals(layers.get(0).digest().hex(), HexFormat.of().formatHex(md.digest()));
        }
    }

    @Test
    void open_skopeoDockerArchive_layersAreTheSourceDiffIds() throws IOException {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).layer(40_000, false)
                .layer(20_000, true).build("v1");
        Path tar = tmp.resolve("skopeo.tar");
        Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker-archive:" + tar + ":registry.example/app:v1");
        try (Source source = open(tar)) {
            ImageTask task = source.images().next();
            assertEquals("app", task.destination());
            assertEquals(Reference.ofTag("v1"), task.reference());
            Manifest manifest = source.manifest(task.repository(), task.reference()).parse();
            assertEquals(image.layers().stream().map(OciLayoutBuilder.Blob::diffId).toList(),
                    manifest.layers().stream().map(Descriptor::digest).toList());
            for (Descriptor blob : manifest.blobs()) {
                try (BlobStream stream = source.blob(task.repository(), blob, 0)) {
                    assertEquals(blob.digest().hex(), drain(stream.in()));
                }
            }
        }
    }
}
