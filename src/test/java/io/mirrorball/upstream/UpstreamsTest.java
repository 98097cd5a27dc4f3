package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening the upstreams of a config: names, spool folders, choice. No request is sent, no blob read. */
final class UpstreamsTest {
    @TempDir
    Path tmp;

    /** A config as ConfigLoader loads it: the default upstream's URL (or none), then the list's entries. */
    @SafeVarargs
    private static MirrorballConfig config(String defaultUrl, Map.Entry<String, String>... more) {
        Map<String, String> env = new HashMap<>();
        if (!defaultUrl.isEmpty()) {
            env.put("MIRRORBALL_UPSTREAM_URL", defaultUrl);
        }
        for (int i = 0; i < more.length; i++) {
            env.put("MIRRORBALL_UPSTREAMS_" + i + "_NAME", more[i].getKey());
            env.put("MIRRORBALL_UPSTREAMS_" + i + "_URL", more[i].getValue());
        }
        return ConfigLoader.load(Optional.empty(), env);
    }

    private static Map.Entry<String, String> entry(String name, String url) {
        return Map.entry(name, url);
    }

    @Test
    void open_eachUpstreamItsOwnSpoolFolder_oldInstanceFoldersSwept() throws Exception {
        Path spool = tmp.resolve("mirror");
        Path leftover = spool.resolve(UUID.randomUUID().toString());
        Files.createDirectories(leftover.resolve("sub"));
        try (Upstreams upstreams = Upstreams.open(config("http://127.0.0.1:9",
                entry("GHCR.io", "http://127.0.0.1:10"), entry("registry.local:5000", "http://127.0.0.1:11")),
                null, null, spool)) {
            assertEquals(List.of("127.0.0.1:9", "ghcr.io", "registry.local:5000"), upstreams.names());
            assertFalse(Files.exists(leftover), "a spool folder an earlier version left in mirror/ is gone");
            for (String folder : List.of("127.0.0.1_9", "ghcr.io", "registry.local_5000")) {
                try (Stream<Path> inside = Files.list(spool.resolve(folder))) {
                    assertEquals(1, inside.count(), "one locked instance folder in mirror/" + folder);
                }
            }
            Upstreams.Target target = upstreams.resolve(RepositoryName.parse("ghcr.io/org/app"), Optional.empty())
                    .orElseThrow();
            assertEquals("ghcr.io", target.upstream());
            assertEquals("org/app", target.remoteName().value());
            assertEquals("ghcr.io/org/app", target.name().value());
            assertEquals("http://127.0.0.1:10", target.registry().base().toString());
            assertEquals("127.0.0.1:9", upstreams.resolve(RepositoryName.parse("org/app"), Optional.empty())
                    .orElseThrow().upstream());
            assertEquals("registry.local:5000", upstreams.resolve(RepositoryName.parse("org/app"),
                    Optional.of(RegistryHost.parse("registry.local:5000"))).orElseThrow().upstream());
            assertTrue(upstreams.defaultRegistry().isPresent());
        }
        try (Stream<Path> left = Files.walk(spool)) {
            assertEquals(4, left.count(), "closed: the instance folders are gone, mirror/ and its 3 parents stay");
        }
    }

    @Test
    void open_noDefault_onlyTheList() throws Exception {
        try (Upstreams upstreams = Upstreams.open(config("", entry("quay.io", "http://127.0.0.1:10")), null, null,
                tmp.resolve("mirror"))) {
            assertTrue(upstreams.any());
            assertTrue(upstreams.defaultRegistry().isEmpty());
            assertEquals(Optional.empty(), upstreams.resolve(RepositoryName.parse("org/app"), Optional.empty()));
        }
        try (Upstreams none = Upstreams.open(config(""), null, null, tmp.resolve("mirror"))) {
            assertFalse(none.any());
        }
    }

    @Test
    void open_twoUpstreamsOfOneName_refusedAndTheFirstClosed() throws Exception {
        MirrorballConfig loaded = config("", entry("quay.io", "http://127.0.0.1:10"));
        MirrorballConfig twice = new MirrorballConfig(loaded.http(), loaded.storage(), loaded.upstream(),
                List.of(loaded.upstreams().get(0), loaded.upstreams().get(0)), loaded.cache(), loaded.auth(),
                loaded.metrics(), loaded.log());
        assertThrows(IllegalArgumentException.class, () -> Upstreams.open(twice, null, null, tmp.resolve("mirror")));
        try (Stream<Path> left = Files.walk(tmp.resolve("mirror"))) {
            assertEquals(List.of(), left.filter(p -> p.getParent().getFileName().toString().equals("quay.io")).toList(),
                    "the first one opened is closed again: no instance folder left");
        }
    }

    @Test
    void folder_safeForEveryRegistryHost() {
        assertEquals("docker.io", Upstreams.folder("docker.io"));
        assertEquals("host_5000", Upstreams.folder("host:5000"));
        assertEquals("___1__5000", Upstreams.folder("[::1]:5000"));
    }
}
