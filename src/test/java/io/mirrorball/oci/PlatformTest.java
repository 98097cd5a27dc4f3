package io.mirrorball.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class PlatformTest {
    private static final String AMD = "sha256:" + "a".repeat(64);
    private static final String ARM7 = "sha256:" + "b".repeat(64);
    private static final String ARM64 = "sha256:" + "c".repeat(64);
    private static final byte[] INDEX = ("{\"schemaVersion\":2,\"manifests\":["
            + "{\"digest\":\"" + AMD + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
            + "{\"digest\":\"" + ARM7 + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
            + "{\"digest\":\"" + ARM64 + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}"
            + "]}").getBytes(StandardCharsets.UTF_8);

    @Test
    void pick_osAndArch_findsTheChild() {
        assertEquals(Optional.of(Digest.parse(AMD)), Platform.parse("linux/amd64").pick(INDEX));
        assertEquals(Optional.of(Digest.parse(ARM64)), Platform.parse("Linux/ARM64").pick(INDEX));
    }

    @Test
    void pick_variant_mustMatch() {
        assertEquals(Optional.of(Digest.parse(ARM7)), Platform.parse("linux/arm/v7").pick(INDEX));
        assertEquals(Optional.empty(), Platform.parse("linux/arm/v6").pick(INDEX));
        assertEquals(Optional.empty(), Platform.parse("windows/amd64").pick(INDEX));
    }

    @Test
    void parse_malformed_isRefused() {
        for (String bad : new String[] {"linux", "linux/", "/amd64", "a/b/c/d", "linux/arm/"}) {
            assertThrows(IllegalArgumentException.class, () -> Platform.parse(bad), bad);
        }
    }
}
