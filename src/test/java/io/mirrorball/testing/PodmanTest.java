package io.mirrorball.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rig itself: an isolated podman pulls through a registries.conf mirror and cleans up. */
final class PodmanTest {
    @TempDir
    Path tmp;

    @Test
    void pull_registryMirror_sameDigestAndImageId() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(6).layers(2, 400_000, true)
                .build("v1");
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"))) {
            Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            // the registry's own name does not resolve: only the mirror can answer
            String ref = "mirror-test.invalid:5000/app:v1";
            Podman podman = Podman.in(tmp.resolve("podman")).mirror("mirror-test.invalid:5000", registry.hostPort());
            try {
                podman.pull(ref);
                assertEquals(image.manifestDigest(), podman.imageDigest(ref));
                assertEquals(image.config().digest().hex(), podman.imageId(ref));
                assertTrue(Files.readString(podman.registriesConf()).contains("insecure = true"));
            } finally {
                podman.close();
            }
            assertFalse(Files.exists(tmp.resolve("podman/root")), "storage removed on close");
        }
    }
}
