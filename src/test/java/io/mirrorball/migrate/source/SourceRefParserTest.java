package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class SourceRefParserTest {
    private static final String HEX = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    private static SourceRef parse(String text) {
        return SourceRefParser.parse(text, null, null);
    }

    private static ImageName image(String text) {
        return assertInstanceOf(SourceRef.RegistryImage.class, parse(text)).image();
    }

    @ParameterizedTest
    @ValueSource(strings = {"alpine", "library/alpine", "docker.io/library/alpine", "docker.io/alpine",
            "index.docker.io/library/alpine", "registry-1.docker.io/alpine", "registry.hub.docker.com/library/alpine",
            "docker://alpine:latest", "docker://docker.io/library/alpine:latest", "DOCKER.IO/library/alpine:latest"})
    void parse_hubSpellings_areOneImage(String text) {
        assertEquals(new ImageName("docker.io", "library/alpine", Reference.ofTag("latest")), image(text));
    }

    @ParameterizedTest
    @CsvSource({
            "alpine:3.19,                      docker.io,           library/alpine,  3.19",
            "bitnami/redis:7,                  docker.io,           bitnami/redis,   7",
            "localhost/app:1,                  localhost,           app,             1",
            "localhost:5000/app:1,             localhost:5000,      app,             1",
            "Registry.Example.com/team/app:v2, registry.example.com, team/app,       v2",
            "docker://r.example:8443/a/b/c:x_y, r.example:8443,     a/b/c,           x_y",
            "myhost/app:1,                     docker.io,           myhost/app,      1",
            "[::1]:5000/app:1,                 '[::1]:5000',        app,             1",
            "registry:5000,                    docker.io,           library/registry, 5000",
    })
    void parse_nameWithTag_followsDockersHostRule(String text, String registry, String repository, String tag) {
        assertEquals(new ImageName(registry, repository, Reference.ofTag(tag)), image(text));
    }

    @Test
    void parse_digest_isImageByDigest() {
        ImageName name = image("docker://ghcr.io/org/app@sha256:" + HEX);
        assertEquals(new ImageName("ghcr.io", "org/app", Reference.ofDigest(Digest.sha256(HEX))), name);
        assertEquals("ghcr.io/org/app@sha256:" + HEX, name.canonical());
    }

    @Test
    void parse_schemeWithoutTag_isEveryTagOfTheRepository() {
        Predicate<String> tags = tag -> tag.startsWith("v");
        SourceRef.RegistryRepository repo = assertInstanceOf(SourceRef.RegistryRepository.class,
                SourceRefParser.parse("docker://registry.example/team/app", null, tags));
        assertEquals("registry.example", repo.registry());
        assertEquals("team/app", repo.repository());
        assertTrue(repo.tags().test("v1"));
        assertFalse(repo.tags().test("latest"));
        SourceRef.RegistryRepository hub = assertInstanceOf(SourceRef.RegistryRepository.class, parse("docker://alpine"));
        assertEquals("docker.io", hub.registry());
        assertEquals("library/alpine", hub.repository());
    }

    @Test
    void parse_noSchemeNoTag_isLatest() {
        assertEquals(Reference.ofTag("latest"), image("registry.example/team/app").reference());
    }

    @ParameterizedTest
    @CsvSource({
            "docker://registry.example,        registry.example",
            "docker://localhost:5000,          localhost:5000",
            "docker://localhost,               localhost",
            "docker://registry:5000/,          registry:5000",
            "docker://index.docker.io,         docker.io",
            "docker://Registry.Example:443/,   registry.example:443",
    })
    void parse_schemeWithHostOnly_isCatalog(String text, String registry) {
        Predicate<String> repos = name -> name.startsWith("team/");
        SourceRef.RegistryCatalog catalog = assertInstanceOf(SourceRef.RegistryCatalog.class,
                SourceRefParser.parse(text, repos, null));
        assertEquals(registry, catalog.registry());
        assertTrue(catalog.repositories().test("team/app"));
        assertFalse(catalog.repositories().test("other"));
        assertTrue(catalog.tags().test("anything"));
        assertEquals(text, catalog.text());
    }

    @ParameterizedTest
    @CsvSource({
            "oci:/tmp/layout,          /tmp/layout,    ''",
            "oci:/tmp/layout:v1.2,     /tmp/layout,    v1.2",
            "oci:layout:latest,        layout,         latest",
            "oci:/tmp/a:b/c,           /tmp/a:b/c,     ''",
            "oci:/tmp/dir:,            /tmp/dir,       ''",
    })
    void parse_oci_splitsDirectoryAndTag(String text, String dir, String tag) {
        SourceRef.OciLayout layout = assertInstanceOf(SourceRef.OciLayout.class, parse(text));
        assertEquals(Path.of(dir), layout.directory());
        assertEquals(tag.isEmpty() ? Optional.empty() : Optional.of(tag), layout.tag());
    }

    @Test
    void parse_dockerArchive_keepsWholePath() {
        SourceRef.DockerArchive archive = assertInstanceOf(SourceRef.DockerArchive.class,
                parse("docker-archive:/tmp/x:y.tar"));
        assertEquals(Path.of("/tmp/x:y.tar"), archive.file());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "docker://", "Alpine", "alpine:", "alpine:bad/tag", "alpine:-x",
            "alpine@sha256:1234", "alpine:1@sha256:" + HEX, "a b", "docker://host.example:99999/app",
            "http://registry.example/app", "oci-archive:/tmp/x.tar", "dir:/tmp/x", "oci:", "oci::v1",
            "docker-archive:", "registry.example/Team/app", "registry.example//app", "docker://registry.example/app/",
            "-rf", "library/alpine/", "docker://host.example:latest"})
    void parse_invalid_throwsQuotingText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(text));
        assertTrue(e.getMessage().contains("\"" + text + "\"") || text.isBlank(), e.getMessage());
    }

    @Test
    void imageNameParse_equalsParserAndDefaultsToLatest() {
        assertEquals(ImageName.parse("docker.io/library/alpine"), ImageName.parse("alpine:latest"));
        assertEquals(ImageName.parse("docker://registry.example/app"), image("registry.example/app:latest"));
        assertThrows(IllegalArgumentException.class, () -> ImageName.parse("UPPER"));
    }

    @Test
    void apiBase_hubAndOthers() {
        assertEquals(URI.create("https://registry-1.docker.io"), ImageName.parse("alpine").apiBase(false));
        assertEquals(URI.create("https://registry-1.docker.io"), ImageName.parse("alpine").apiBase(true));
        assertEquals(URI.create("https://r.example:5000"), ImageName.parse("r.example:5000/a").apiBase(false));
        assertEquals(URI.create("http://localhost:5000"), ImageName.parse("localhost:5000/a").apiBase(true));
    }

    @Test
    void destinationRepository_dropsHubLibraryOnly() {
        assertEquals("alpine", ImageName.parse("alpine").destinationRepository());
        assertEquals("bitnami/redis", ImageName.parse("bitnami/redis").destinationRepository());
        assertEquals("library/app", ImageName.parse("r.example/library/app").destinationRepository());
    }

    @Test
    void readSourceFile_skipsCommentsAndBlankLines(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sources.txt");
        Files.writeString(file, "# images\nalpine:3.19\n\n  docker://registry.example/app  # every tag\n"
                + "oci:/tmp/l#x:v1\n\t\n");
        assertEquals(List.of("alpine:3.19", "docker://registry.example/app", "oci:/tmp/l#x:v1"),
                SourceRefParser.readSourceFile(file));
        List<SourceRef> refs = SourceRefParser.parseSourceFile(file, null, null);
        assertEquals(3, refs.size());
        assertInstanceOf(SourceRef.RegistryRepository.class, refs.get(1));
    }

    @Test
    void parseSourceFile_badLine_namesFileAndLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sources.txt");
        Files.writeString(file, "alpine\n# fine\nNot/Valid\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SourceRefParser.parseSourceFile(file, null, null));
        assertTrue(e.getMessage().startsWith("sources.txt line 3: "), e.getMessage());
        assertTrue(e.getMessage().contains("\"Not/Valid\""), e.getMessage());
    }
}
