package io.mirrorball.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rig itself: an isolated containerd pulls from Debian's docker-registry and stops cleanly. */
final class ContainerdTest {
    @TempDir
    Path tmp;

    @Test
    void pull_plainHttpRegistry_storesEveryBlobAndStopsOnClose() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(5).layers(2, 400_000, true)
                .build("v1");
        Path socket;
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             Containerd containerd = Containerd.start(tmp.resolve("containerd"))) {
            Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            socket = containerd.socket();
            assertTrue(List.of("overlayfs", "native").contains(containerd.snapshotter()), containerd.snapshotter());
            String ref = registry.hostPort() + "/app:v1";
            Files.createDirectories(tmp.resolve("no-hosts"));

            containerd.pull(ref, tmp.resolve("no-hosts"), "--plain-http");

            assertEquals(image.manifestDigest(), containerd.imageDigest(ref));
            Set<Digest> expected = new TreeSet<>(image.layerDigests());
            expected.add(image.manifestDigest());
            expected.add(image.config().digest());
            assertEquals(expected, containerd.contentDigests());
            assertTrue(containerd.ctr(List.of("snapshots", "--snapshotter", containerd.snapshotter(), "ls"))
                    .requireSuccess().stdout().contains("Committed"), "layers unpacked");
        }
        assertFalse(Files.exists(socket), "socket removed on close");
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().arguments()
                .map(a -> String.join(" ", a).contains(tmp.resolve("containerd").toString())).orElse(false)),
                "containerd stopped");
    }

    @Test
    void writeHostsToml_namesTheMirrorBeforeTheServer() throws Exception {
        Path dir = Containerd.writeHostsToml(tmp.resolve("hosts"), "ghcr.io", URI.create("http://127.0.0.1:5123"));
        assertEquals("""
                server = "https://ghcr.io"

                [host."http://127.0.0.1:5123"]
                  capabilities = ["pull", "resolve"]
                """, Files.readString(dir.resolve("ghcr.io/hosts.toml")));
    }
}
