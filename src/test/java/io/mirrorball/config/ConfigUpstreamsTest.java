package io.mirrorball.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The list {@code upstreams} and the section {@code cache}: typed binding, defaults, environment, messages. */
final class ConfigUpstreamsTest {
    private static final String TWO = """
            upstream: { url: https://registry-1.docker.io, tag-ttl: 1m }
            upstreams:
              - name: ghcr.io
                url: https://ghcr.io
                username: bot
                password: s3cret
              - name: Registry.Example:5000
                url: http://10.0.0.5:5000
                tag-ttl: 1h
                mirror: false
                publish: true
                redirect-allow: [minio.internal]
            """;

    @TempDir
    Path tmp;

    private MirrorballConfig load(String yaml, Map<String, String> env) throws IOException {
        Path file = tmp.resolve("mirrorball.yml");
        Files.writeString(file, yaml);
        return ConfigLoader.load(Optional.of(file), env);
    }

    private ConfigException error(String yaml, Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> load(yaml, env));
    }

    @Test
    void load_upstreamsList_bindsEachEntryWithUpstreamDefaults() throws IOException {
        MirrorballConfig c = load(TWO, Map.of());
        assertEquals("docker.io", c.upstream().name());
        assertEquals(Duration.ofMinutes(1), c.upstream().tagTtl());
        assertEquals(new MirrorballConfig.Upstream("ghcr.io", "https://ghcr.io", "bot", "s3cret",
                Duration.ofMinutes(5), true, false, List.of()), c.upstreams().get(0));
        assertEquals(new MirrorballConfig.Upstream("registry.example:5000", "http://10.0.0.5:5000", "", "",
                Duration.ofHours(1), false, true, List.of("minio.internal")), c.upstreams().get(1));
        assertEquals(List.of("docker.io", "ghcr.io", "registry.example:5000"),
                c.allUpstreams().stream().map(MirrorballConfig.Upstream::name).toList());
        assertTrue(c.anyUpstream());
    }

    @Test
    void load_defaultUpstreamName_standsForAnotherRegistryThanItsUrl() throws IOException {
        MirrorballConfig c = load("upstream: { url: 'http://hub-cache:5000', name: index.docker.io }\n", Map.of());
        assertEquals("docker.io", c.upstream().name());
        assertEquals("http://hub-cache:5000", c.upstream().url());
        ConfigException clash = error("upstream: { url: 'http://hub-cache:5000', name: docker.io }\n"
                + "upstreams: [{name: docker.io, url: 'https://registry-1.docker.io'}]\n", Map.of());
        assertEquals("upstreams[0].name", clash.key());
        ConfigException bad = error("upstream: { url: 'http://hub-cache:5000', name: 'http://x' }\n", Map.of());
        assertEquals("upstream.name", bad.key());
    }

    @Test
    void load_entryNamedLikeTheDefaultUpstreamsUrlHost_refused() {
        ConfigException e = error("upstream: { url: 'http://127.0.0.1:9' }\n"
                + "upstreams: [{name: '127.0.0.1:9', url: 'http://127.0.0.1:10'}]\n", Map.of());
        assertEquals("upstreams[0].name", e.key());
        assertTrue(e.getMessage().contains("already configured by upstream.url"), e.getMessage());
    }

    @Test
    void load_upstreamsWithoutDefaultUpstream_stillFallsThrough() throws IOException {
        MirrorballConfig c = load("upstreams: [{name: quay.io, url: https://quay.io}]\n", Map.of());
        assertFalse(c.upstream().enabled());
        assertTrue(c.anyUpstream());
        assertEquals(List.of("quay.io"), c.allUpstreams().stream().map(MirrorballConfig.Upstream::name).toList());
    }

    @Test
    void load_noUpstreams_isEmptyList() throws IOException {
        assertEquals(List.of(), load("upstreams:\n", Map.of()).upstreams());
        assertFalse(ConfigLoader.load(Optional.empty(), Map.of()).anyUpstream());
    }

    @Test
    void load_envSetsKeyOfEntry_andAddsTheNextEntry() throws IOException {
        MirrorballConfig c = load(TWO, Map.of(
                "MIRRORBALL_UPSTREAMS_0_PASSWORD", "rotated",
                "MIRRORBALL_UPSTREAMS_1_TAG_TTL", "2m",
                "MIRRORBALL_UPSTREAMS_2_NAME", "quay.io",
                "MIRRORBALL_UPSTREAMS_2_URL", "https://quay.io"));
        assertEquals("rotated", c.upstreams().get(0).password());
        assertEquals("bot", c.upstreams().get(0).username());
        assertEquals(Duration.ofMinutes(2), c.upstreams().get(1).tagTtl());
        assertEquals("quay.io", c.upstreams().get(2).name());
        assertTrue(c.upstreams().get(2).mirror(), "a new entry gets the defaults");
    }

    @Test
    void load_envReplacesWholeList() throws IOException {
        MirrorballConfig c = load(TWO, Map.of("MIRRORBALL_UPSTREAMS",
                "[{name: registry.k8s.io, url: 'https://registry.k8s.io', tag-ttl: 1h}]"));
        assertEquals(List.of(new MirrorballConfig.Upstream("registry.k8s.io", "https://registry.k8s.io", "", "",
                Duration.ofHours(1), true, false, List.of())), c.upstreams());
        assertEquals(List.of(), load(TWO, Map.of("MIRRORBALL_UPSTREAMS", "")).upstreams());
    }

    /** Every mistake in an entry is refused with the entry's key path. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            upstreams: { name: ghcr.io }                          | upstreams: must be a list of upstreams
            upstreams: [ghcr.io]                                  | upstreams[0]: must be a mapping with keys [mirror, name, password, publish, redirect-allow, tag-ttl, url, username]
            upstreams: [{url: 'https://ghcr.io'}]                 | upstreams[0].name: is required
            upstreams: [{name: 'https://ghcr.io', url: 'https://ghcr.io'}] | upstreams[0].name: 'https://ghcr.io' is not a registry host
            upstreams: [{name: ghcr.io}]                          | upstreams[0].url: is required
            upstreams: [{name: ghcr.io, url: ghcr.io}]            | upstreams[0].url: invalid URL 'ghcr.io': scheme must be http or https
            upstreams: [{name: a.io, url: 'https://a.io'}, {name: b.io, url: 'https://b.io', tagttl: 1m}] | upstreams[1].tagttl: unknown configuration key (did you mean upstreams[1].tag-ttl?)
            upstreams: [{name: a.io, url: 'https://a.io', tag-ttl: 5}] | upstreams[0].tag-ttl: invalid duration '5'
            upstreams: [{name: a.io, url: 'https://a.io', username: bot}] | upstreams[0].password: upstreams[0].username and upstreams[0].password must be set together
            upstreams: [{name: a.io, url: 'https://a.io'}, {name: A.IO, url: 'https://b.io'}] | upstreams[1].name: upstream a.io is already configured by upstreams[0].name
            upstreams: [{name: index.docker.io, url: 'https://mirror.example'}] | upstreams[0].name: upstream docker.io is already configured by upstream.url
            """)
    void load_badEntry_namesItsKey(String yaml, String message) {
        String withDefault = "upstream: { url: https://registry-1.docker.io }\n" + yaml + "\n";
        ConfigException e = error(withDefault, Map.of());
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void load_badEnvForEntries_namesVariable() {
        ConfigException gap = error(TWO, Map.of("MIRRORBALL_UPSTREAMS_5_URL", "https://x.io"));
        assertEquals("MIRRORBALL_UPSTREAMS_5_URL", gap.key());
        assertTrue(gap.getMessage().contains("without gaps"), gap.getMessage());
        ConfigException unknown = error(TWO, Map.of("MIRRORBALL_UPSTREAMS_0_TTL", "1m"));
        assertTrue(unknown.getMessage().startsWith("MIRRORBALL_UPSTREAMS_0_TTL: unknown key TTL"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("TAG_TTL"), unknown.getMessage());
        ConfigException list = error(TWO, Map.of("MIRRORBALL_UPSTREAMS", "[{name: x.io"));
        assertTrue(list.getMessage().startsWith("MIRRORBALL_UPSTREAMS: invalid YAML"), list.getMessage());
        ConfigException value = error(TWO, Map.of("MIRRORBALL_UPSTREAMS_0_MIRROR", "sometimes"));
        assertTrue(value.getMessage().startsWith("upstreams[0].mirror: invalid boolean 'sometimes'"), value.getMessage());
    }

    @Test
    void load_passwordOfEntry_neverInMessages() {
        ConfigException e = error(TWO, Map.of("MIRRORBALL_UPSTREAMS_0_URL", "https://u:s3cret@ghcr.io"));
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        assertTrue(e.getMessage().contains("https://u:***@ghcr.io"), e.getMessage());
        assertTrue(e.getMessage().startsWith("upstreams[0].url: "), e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''       | 0
            0        | 0
            1024     | 1024
            500MiB   | 524288000
            50GiB    | 53687091200
            2TB      | 2000000000000
            1.5KB    | 1500
            """)
    void load_cacheMaxSize_units(String text, long bytes) throws IOException {
        assertEquals(bytes, load("cache: { max-size: '" + text + "' }\n", Map.of()).cache().maxSize());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''     | PT0S
            0      | PT0S
            30d    | PT720H
            1d12h  | PT36H
            90m    | PT1H30M
            """)
    void load_cacheMaxIdle_daysAndDurations(String text, Duration age) {
        assertEquals(age, ConfigLoader.load(Optional.empty(), Map.of("MIRRORBALL_CACHE_MAX_IDLE", text)).cache().maxIdle());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            MIRRORBALL_CACHE_MAX_SIZE | 50 GB!  | cache.max-size: invalid size '50 GB!'
            MIRRORBALL_CACHE_MAX_SIZE | -1GiB   | cache.max-size: invalid size
            MIRRORBALL_CACHE_MAX_SIZE | 1gib    | cache.max-size: invalid size
            MIRRORBALL_CACHE_MAX_SIZE | 99999999TiB | cache.max-size: size '99999999TiB' is too large
            MIRRORBALL_CACHE_MAX_IDLE | 30 days | cache.max-idle: invalid duration
            MIRRORBALL_CACHE_MAX_IDLE | 1dx     | cache.max-idle: invalid age '1dx'
            """)
    void load_badCacheValue_namesKey(String name, String value, String message) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Optional.empty(), Map.of(name, value)));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }
}
