package io.mirrorball.migrate.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.credentials.CredentialResolver;
import io.mirrorball.credentials.Credentials;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Reference;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.upstream.SourceClient;
import java.net.URI;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RegistrySource} over a docker-registry: one image, a repository's tags, the catalog. */
final class RegistrySourceTest {
    private static final SourceClient.Settings SETTINGS = new SourceClient.Settings(Duration.ofSeconds(2),
            Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(20), 8);

    @TempDir
    Path tmp;

    private static List<String> drain(Iterator<ImageTask> tasks) {
        List<String> out = new ArrayList<>();
        tasks.forEachRemaining(t -> out.add(t.source() + " " + t.repository() + " " + t.reference() + " "
                + t.destination()));
        // distribution 2.8 pages tags in no particular order
        return out.stream().sorted().toList();
    }

    @Test
    void images_imageRepositoryAndCatalog_filteredTasksPageByPage() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(11).layer(2000, true)
                .build("v1");
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             SourceClient client = SourceClient.open(registry.uri(), repository -> () -> Credentials.ANONYMOUS,
                     SETTINGS)) {
            String host = registry.hostPort();
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
            for (String tag : List.of("1.0.0", "1.1.0", "2.0.0", "latest")) {
                skopeo.copy(image.skopeoRef(), "docker://" + host + "/app:" + tag);
            }
            skopeo.copy(image.skopeoRef(), "docker://" + host + "/org/tools:1.5");
            skopeo.copy(image.skopeoRef(), "docker://" + host + "/skipped:1.0");

            SourceRef one = new SourceRef.RegistryImage("docker://" + host + "/app:latest",
                    new ImageName(host, "app", Reference.ofTag("latest")));
            try (RegistrySource source = RegistrySource.over(one, client, 2)) {
                assertEquals(List.of("docker://" + host + "/app:latest app latest app"), drain(source.images()));
                assertEquals(image.manifestDigest(), source.manifest("app", Reference.ofTag("latest")).digest());
            }

            SourceRef repository = new SourceRef.RegistryRepository("docker://" + host + "/app", host, "app",
                    tag -> tag.startsWith("1."));
            try (RegistrySource source = RegistrySource.over(repository, client, 2)) {
                assertEquals(List.of("docker://" + host + "/app:1.0.0 app 1.0.0 app",
                        "docker://" + host + "/app:1.1.0 app 1.1.0 app"), drain(source.images()));
            }

            SourceRef catalog = new SourceRef.RegistryCatalog("docker://" + host, host,
                    name -> !name.equals("skipped"), tag -> tag.startsWith("1."));
            try (RegistrySource source = RegistrySource.over(catalog, client, 1)) {
                assertEquals(List.of("docker://" + host + "/app:1.0.0 app 1.0.0 app",
                        "docker://" + host + "/app:1.1.0 app 1.1.0 app",
                        "docker://" + host + "/org/tools:1.5 org/tools 1.5 org/tools"), drain(source.images()));
            }
            // over() leaves the client open for the next source
            assertEquals(List.of("1.5"), client.tags("org/tools", 10));

            SourceRef elsewhere = new SourceRef.RegistryRepository("docker://other.example/app", "other.example",
                    "app", tag -> true);
            assertThrows(IllegalArgumentException.class, () -> RegistrySource.over(elsewhere, client, 2));
        }
    }

    @Test
    void images_dockerHubOfficialImage_destinationWithoutLibrary() {
        // no request is made: naming the images needs no network
        try (SourceClient hub = SourceClient.open(URI.create("https://index.docker.io"),
                repository -> () -> Credentials.ANONYMOUS, SETTINGS)) {
            assertEquals("docker.io", hub.registry());
            assertTrue(hub.dockerHub());
            SourceRef ref = new SourceRef.RegistryImage("alpine:3.20",
                    new ImageName(ImageName.DOCKER_HUB, "library/alpine", Reference.ofTag("3.20")));
            try (RegistrySource source = RegistrySource.over(ref, hub, 10)) {
                assertEquals(List.of("alpine:3.20 library/alpine 3.20 alpine"), drain(source.images()));
            }
            SourceRef user = new SourceRef.RegistryImage("docker.io/someone/library:1",
                    new ImageName(ImageName.DOCKER_HUB, "someone/library", Reference.ofTag("1")));
            try (RegistrySource source = RegistrySource.over(user, hub, 10)) {
                assertEquals(List.of("docker.io/someone/library:1 someone/library 1 someone/library"),
                        drain(source.images()));
            }
        }
    }

    @Test
    void open_htpasswdRegistryWithAuthFile_listsAndPulls() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout")).seed(12).layer(2000, true)
                .build("v1");
        try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("registry")).htpasswd("carol", "pw1")
                .start()) {
            String host = registry.hostPort();
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo")).login(host, "carol", "pw1");
            skopeo.copy(image.skopeoRef(), "docker://" + host + "/team/app:v1");
            CredentialResolver resolver = CredentialResolver.of(Optional.empty(),
                    Optional.of(skopeo.home().resolve("auth.json")), Map.of(), tmp.resolve("home"),
                    Duration.ofSeconds(10));
            SourceRef ref = new SourceRef.RegistryRepository("docker://" + host + "/team/app", host, "team/app",
                    tag -> true);
            try (RegistrySource source = RegistrySource.open(ref, resolver, SETTINGS, true, RegistrySource.PAGE_SIZE)) {
                assertEquals(List.of("docker://" + host + "/team/app:v1 team/app v1 team/app"), drain(source.images()));
                assertEquals(image.manifestDigest(), source.manifest("team/app", Reference.ofTag("v1")).digest());
                assertEquals(List.of(), source.referrers("team/app", image.manifestDigest()));
            }

            CredentialResolver nobody = CredentialResolver.of(Optional.of(Credentials.ANONYMOUS), Optional.empty(),
                    Map.of(), tmp.resolve("home"), Duration.ofSeconds(10));
            try (RegistrySource source = RegistrySource.open(ref, nobody, SETTINGS, true, RegistrySource.PAGE_SIZE)) {
                MigrateException denied = assertThrows(MigrateException.class, () -> source.images().hasNext());
                assertEquals(FailureKind.DENIED, denied.kind());
                assertTrue(denied.getMessage().contains("team/app"), denied.getMessage());
            }
        }
    }
}
