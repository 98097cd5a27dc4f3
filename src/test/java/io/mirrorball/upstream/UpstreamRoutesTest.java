package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class UpstreamRoutesTest {
    private static final UpstreamRoutes ROUTES = new UpstreamRoutes(Set.of("docker.io", "ghcr.io", "quay.io",
            "registry.local:5000"), "docker.io");

    private static Optional<UpstreamRoutes.Choice> choose(UpstreamRoutes routes, String name, String ns) {
        return routes.choose(RepositoryName.parse(name), Optional.ofNullable(ns).map(RegistryHost::parse));
    }

    @ParameterizedTest
    @CsvSource({
            // neither: the default upstream, name unchanged
            "library/alpine, , docker.io, library/alpine",
            "org/app, , docker.io, org/app",
            "ghcr.io, , docker.io, ghcr.io",
            "other.io/org/app, , docker.io, other.io/org/app",
            // a name prefix that is an upstream's name
            "ghcr.io/org/app, , ghcr.io, org/app",
            "quay.io/a/b/c, , quay.io, a/b/c",
            "docker.io/library/alpine, , docker.io, library/alpine",
            "index.docker.io/alpine, , docker.io, alpine",
            "registry-1.docker.io/alpine, , docker.io, alpine",
            // only the first component counts
            "org/ghcr.io/app, , docker.io, org/ghcr.io/app",
            // ns (containerd): the upstream named, the name as it is
            "org/app, ghcr.io, ghcr.io, org/app",
            "library/alpine, docker.io, docker.io, library/alpine",
            "library/alpine, index.docker.io, docker.io, library/alpine",
            "library/alpine, registry-1.docker.io, docker.io, library/alpine",
            "org/app, GHCR.IO, ghcr.io, org/app",
            "org/app, registry.local:5000, registry.local:5000, org/app",
            // ns wins over a prefix
            "ghcr.io/org/app, quay.io, quay.io, ghcr.io/org/app",
    })
    void choose_rules(String name, String ns, String upstream, String remote) {
        UpstreamRoutes.Choice choice = choose(ROUTES, name, ns).orElseThrow();
        assertEquals(upstream, choice.upstream());
        assertEquals(remote, choice.remoteName().value());
    }

    @ParameterizedTest
    @CsvSource({"org/app, gcr.io", "org/app, registry.local", "org/app, registry.local:5001",
            "ghcr.io/org/app, example.com"})
    void choose_nsOfNoUpstream_nameUnknownNeverAnotherRegistry(String name, String ns) {
        OciException e = assertThrows(OciException.class, () -> choose(ROUTES, name, ns));
        assertEquals(OciErrorCode.NAME_UNKNOWN, e.code());
        assertTrue(e.getMessage().contains("no upstream is configured for the registry "
                + RegistryHost.parse(ns).name()), e.getMessage());
    }

    @Test
    void choose_noDefault_onlyPrefixAndNsMatch() {
        UpstreamRoutes routes = new UpstreamRoutes(Set.of("ghcr.io"), null);
        assertEquals(Optional.empty(), choose(routes, "org/app", null));
        assertEquals(Optional.empty(), choose(routes, "docker.io/library/alpine", null));
        assertEquals("org/app", choose(routes, "ghcr.io/org/app", null).orElseThrow().remoteName().value());
        assertEquals("ghcr.io", choose(routes, "org/app", "ghcr.io").orElseThrow().upstream());
        assertThrows(OciException.class, () -> choose(routes, "org/app", "docker.io"));
    }
}
