package io.mirrorball.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How keys of credentials files are spelled once normalised. */
final class RegistryKeysTest {
    @ParameterizedTest
    @CsvSource({
        "https://index.docker.io/v1/, true, docker.io",
        "https://index.docker.io/v1/, false, docker.io",
        "index.docker.io, true, docker.io",
        "registry-1.docker.io, true, docker.io",
        "docker.io, true, docker.io",
        "http://docker.io/v1, true, docker.io",
        "HTTPS://Registry.Example.COM:5000/v2/, true, registry.example.com:5000",
        "registry.example.com, true, registry.example.com",
        "registry.example.com/team, true, registry.example.com/team",
        "registry.example.com/team/app/, true, registry.example.com/team/app",
        "registry.example.com/team/app, false, registry.example.com",
        "index.docker.io/library/alpine, true, docker.io/library/alpine",
    })
    void fileKey_normalises(String key, boolean namespaces, String expected) {
        assertEquals(expected, RegistryKeys.fileKey(key, namespaces));
    }

    @ParameterizedTest
    @CsvSource({
        "docker.io, https://index.docker.io/v1/",
        "registry-1.docker.io, https://index.docker.io/v1/",
        "index.docker.io, https://index.docker.io/v1/",
        "registry.example.com:5000, registry.example.com:5000",
    })
    void helperServerUrl_isHubLegacyUrlForHub(String registry, String expected) {
        assertEquals(expected, RegistryKeys.helperServerUrl(registry));
    }
}
