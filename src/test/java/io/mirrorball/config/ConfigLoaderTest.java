package io.mirrorball.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class ConfigLoaderTest {
    private static final Path WORK_DIR = Path.of("").toAbsolutePath();

    @TempDir
    Path tmp;

    private static MirrorballConfig env(String... pairs) {
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return ConfigLoader.load(Optional.empty(), env);
    }

    private MirrorballConfig yaml(String text) throws IOException {
        Path file = tmp.resolve("mirrorball.yml");
        Files.writeString(file, text);
        return ConfigLoader.load(Optional.of(file), Map.of());
    }

    private static ConfigException envError(String name, String value) {
        return assertThrows(ConfigException.class, () -> env(name, value));
    }

    @Test
    void load_noFileNoEnv_givesDocumentedDefaults() {
        MirrorballConfig c = ConfigLoader.load(Optional.empty(), Map.of("PATH", "/usr/bin", "HOME", "/root"));
        assertEquals("0.0.0.0", c.http().host());
        assertEquals(5000, c.http().port());
        assertEquals("embedded", c.storage().ipfs().node());
        assertTrue(c.storage().ipfs().isEmbedded());
        assertEquals(WORK_DIR.resolve("data/ipfs"), c.storage().ipfs().embedded().path());
        assertEquals("/docker/registry/v2", c.storage().ipfs().mfsRoot());
        assertTrue(c.storage().ipfs().cloneEnabled());
        assertEquals(Duration.ofSeconds(60), c.storage().ipfs().cloneTimeout());
        assertEquals(64, c.storage().ipfs().maxCloneWaits());
        assertEquals(Duration.ofSeconds(60), c.http().idleTimeout());
        assertEquals(256, c.http().maxThreads());
        assertEquals(64, c.http().maxConnectionsPerClient());
        assertEquals(1024, c.http().minDataRate());
        assertEquals(Duration.ofSeconds(30), c.http().minDataRateWindow());
        assertEquals(Optional.empty(), c.http().tls());
        assertEquals(WORK_DIR.resolve("data/uploads"), c.storage().uploads().path());
        assertEquals(Duration.ofHours(24), c.storage().uploads().expireAfter());
        assertEquals("", c.upstream().url());
        assertFalse(c.upstream().enabled());
        assertEquals("", c.upstream().username());
        assertEquals("", c.upstream().password());
        assertEquals(Duration.ofMinutes(5), c.upstream().tagTtl());
        assertTrue(c.upstream().mirror());
        assertFalse(c.upstream().publish());
        assertNull(c.auth().htpasswd());
        assertTrue(c.auth().anonymousPull());
        assertEquals("/metrics", c.metrics().path());
        assertEquals(new MirrorballConfig.Log("info", "text"), c.log());
        assertFalse(c.log().json());
    }

    @Test
    void load_shippedConfFile_equalsBuiltInDefaults() {
        Path shipped = Path.of(System.getProperty("mirrorball.basedir", "."), "conf", "mirrorball.yml");
        assertTrue(Files.isRegularFile(shipped), "missing " + shipped);
        assertEquals(ConfigLoader.load(Optional.empty(), Map.of()), ConfigLoader.load(Optional.of(shipped), Map.of()));
    }

    @Test
    void load_shippedConfFile_documentsEveryKey() throws IOException {
        Path shipped = Path.of(System.getProperty("mirrorball.basedir", "."), "conf", "mirrorball.yml");
        String text = Files.readString(shipped);
        for (String key : ConfigLoader.keys()) {
            String leaf = key.substring(key.lastIndexOf('.') + 1);
            assertTrue(text.contains(leaf + ":"), key + " is not in " + shipped);
        }
    }

    @Test
    void load_yamlWithEveryKey_readsEveryValue() throws IOException {
        Path htpasswd = Files.createFile(tmp.resolve("htpasswd"));
        MirrorballConfig c = yaml("""
                http: { addr: "127.0.0.1:0" }
                storage:
                  ipfs:
                    node: http://127.0.0.1:5001
                    embedded: { path: /var/lib/mb/ipfs, gateways: [http://127.0.0.1:8080, https://gw.example],
                                gateway-timeout: 5s }
                    mfs-root: /reg
                    clone: false
                    clone-timeout: 1m30s
                  uploads: { path: uploads, expire-after: 2h }
                upstream:
                  url: https://registry-1.docker.io
                  username: alice
                  password: "s3cret:x"
                  tag-ttl: 0
                  mirror: no
                  publish: true
                  redirect-allow: [minio.internal, 10.20.0.0/16, "fd00::/8"]
                auth: { htpasswd: { path: %s }, anonymous-pull: false }
                metrics: { path: /_metrics }
                log: { level: debug, format: json }
                """.formatted(htpasswd));
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(0, c.http().port());
        assertEquals("http://127.0.0.1:5001", c.storage().ipfs().node());
        assertFalse(c.storage().ipfs().isEmbedded());
        assertEquals(Path.of("/var/lib/mb/ipfs"), c.storage().ipfs().embedded().path());
        assertEquals(List.of(URI.create("http://127.0.0.1:8080"), URI.create("https://gw.example")),
                c.storage().ipfs().embedded().gateways());
        assertEquals(Duration.ofSeconds(5), c.storage().ipfs().embedded().gatewayTimeout());
        assertEquals("/reg", c.storage().ipfs().mfsRoot());
        assertFalse(c.storage().ipfs().cloneEnabled());
        assertEquals(Duration.ofSeconds(90), c.storage().ipfs().cloneTimeout());
        assertEquals(WORK_DIR.resolve("uploads"), c.storage().uploads().path());
        assertEquals(Duration.ofHours(2), c.storage().uploads().expireAfter());
        assertEquals(new MirrorballConfig.Upstream("https://registry-1.docker.io", "alice", "s3cret:x",
                Duration.ZERO, false, true, List.of("minio.internal", "10.20.0.0/16", "fd00::/8")), c.upstream());
        assertEquals(new MirrorballConfig.Auth(htpasswd, false), c.auth());
        assertEquals("/_metrics", c.metrics().path());
        assertEquals(new MirrorballConfig.Log("debug", "json"), c.log());
        assertTrue(c.log().json());
    }

    @Test
    void load_partialYaml_keepsDefaultsForMissingKeys() throws IOException {
        MirrorballConfig c = yaml("storage:\n  ipfs:\n    clone-timeout: 5s\n");
        assertEquals(Duration.ofSeconds(5), c.storage().ipfs().cloneTimeout());
        assertEquals("/docker/registry/v2", c.storage().ipfs().mfsRoot());
        assertEquals(5000, c.http().port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "# only a comment\n", "http:\n", "upstream:\n  url:\n"})
    void load_emptyYamlOrEmptySections_givesDefaults(String text) throws IOException {
        assertEquals(ConfigLoader.load(Optional.empty(), Map.of()), yaml(text));
    }

    /** Plain YAML scalars, such as unquoted addresses ('~' stands for a line break). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            http:~  addr: :6000~                    | 0.0.0.0:6000
            http:~  addr: 127.0.0.1:6001~           | 127.0.0.1:6001
            http: {addr: 'localhost:6002'}~         | localhost:6002
            """)
    void load_yamlScalarForms_areRead(String text, String expected) throws IOException {
        MirrorballConfig.Http http = yaml(text.replace('~', '\n')).http();
        assertEquals(expected, http.host() + ":" + http.port());
    }

    @Test
    void load_yamlNativeBooleansAndDurations_areRead() throws IOException {
        MirrorballConfig c = yaml("storage: {ipfs: {clone: false}}\nupstream: {mirror: yes, tag-ttl: 0}\n");
        assertFalse(c.storage().ipfs().cloneEnabled());
        assertTrue(c.upstream().mirror());
        assertEquals(Duration.ZERO, c.upstream().tagTtl());
    }

    @Test
    void load_envOverridesYaml() throws IOException {
        Path file = tmp.resolve("m.yml");
        Files.writeString(file, "http: { addr: \":6000\" }\nupstream: { tag-ttl: 1m }\n");
        MirrorballConfig c = ConfigLoader.load(Optional.of(file), Map.of("MIRRORBALL_HTTP_ADDR", "127.0.0.1:7000"));
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(7000, c.http().port());
        assertEquals(Duration.ofMinutes(1), c.upstream().tagTtl());
    }

    /** One override of every key: variable, value, and what the loaded config must hold. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            MIRRORBALL_HTTP_ADDR                       | localhost:8080               | Http[host=localhost, port=8080]
            MIRRORBALL_HTTP_ADDR                       | [::1]:5001                   | Http[host=::1, port=5001]
            MIRRORBALL_STORAGE_IPFS_NODE               | http://u:p@a:5001            | http://u:p@a:5001
            MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH      | /srv/ipfs                    | /srv/ipfs
            MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAYS  | http://a:8080, https://b     | [http://a:8080, https://b]
            MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAY_TIMEOUT | 2s                     | PT2S
            MIRRORBALL_STORAGE_IPFS_MFS_ROOT           | /t-123                       | /t-123
            MIRRORBALL_STORAGE_IPFS_CLONE              | FALSE                        | false
            MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT      | 500ms                        | PT0.5S
            MIRRORBALL_STORAGE_UPLOADS_PATH            | /srv/uploads                 | /srv/uploads
            MIRRORBALL_STORAGE_UPLOADS_EXPIRE_AFTER    | 1.5h                         | PT1H30M
            MIRRORBALL_UPSTREAM_URL                    | http://index.docker.io       | http://index.docker.io
            MIRRORBALL_UPSTREAM_URL                    | https://docker.io            | https://docker.io
            MIRRORBALL_UPSTREAM_TAG_TTL                | 1h2m3s4ms                    | PT1H2M3.004S
            MIRRORBALL_UPSTREAM_MIRROR                 | off                          | false
            MIRRORBALL_UPSTREAM_PUBLISH                | 1                            | true
            MIRRORBALL_UPSTREAM_REDIRECT_ALLOW         | 10.0.0.0/8, minio.internal   | [10.0.0.0/8, minio.internal]
            MIRRORBALL_AUTH_ANONYMOUS_PULL             | false                        | false
            MIRRORBALL_METRICS_PATH                    | /stats/json                  | /stats/json
            MIRRORBALL_LOG_LEVEL                       | WARN                         | warn
            MIRRORBALL_LOG_FORMAT                      | json                         | json
            """)
    void load_envOverride_setsKey(String name, String value, String expected) {
        MirrorballConfig c = env(name, value);
        Map<String, Function<MirrorballConfig, Object>> read = Map.ofEntries(
                Map.entry("MIRRORBALL_HTTP_ADDR", x -> x.http()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_NODE", x -> x.storage().ipfs().node()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", x -> x.storage().ipfs().embedded().path()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAYS", x -> x.storage().ipfs().embedded().gateways()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_EMBEDDED_GATEWAY_TIMEOUT",
                        x -> x.storage().ipfs().embedded().gatewayTimeout()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", x -> x.storage().ipfs().mfsRoot()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_CLONE", x -> x.storage().ipfs().cloneEnabled()),
                Map.entry("MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT", x -> x.storage().ipfs().cloneTimeout()),
                Map.entry("MIRRORBALL_STORAGE_UPLOADS_PATH", x -> x.storage().uploads().path()),
                Map.entry("MIRRORBALL_STORAGE_UPLOADS_EXPIRE_AFTER", x -> x.storage().uploads().expireAfter()),
                Map.entry("MIRRORBALL_UPSTREAM_URL", x -> x.upstream().url()),
                Map.entry("MIRRORBALL_UPSTREAM_TAG_TTL", x -> x.upstream().tagTtl()),
                Map.entry("MIRRORBALL_UPSTREAM_MIRROR", x -> x.upstream().mirror()),
                Map.entry("MIRRORBALL_UPSTREAM_PUBLISH", x -> x.upstream().publish()),
                Map.entry("MIRRORBALL_UPSTREAM_REDIRECT_ALLOW", x -> x.upstream().redirectAllow()),
                Map.entry("MIRRORBALL_AUTH_ANONYMOUS_PULL", x -> x.auth().anonymousPull()),
                Map.entry("MIRRORBALL_METRICS_PATH", x -> x.metrics().path()),
                Map.entry("MIRRORBALL_LOG_LEVEL", x -> x.log().level()),
                Map.entry("MIRRORBALL_LOG_FORMAT", x -> x.log().format()));
        Object actual = read.get(name).apply(c);
        String shown = actual instanceof MirrorballConfig.Http h ? "Http[host=" + h.host() + ", port=" + h.port() + "]"
                : actual.toString();
        assertEquals(expected, shown);
    }

    @Test
    void load_envCredentialsAndHtpasswd_setKeys() throws IOException {
        Path htpasswd = Files.createFile(tmp.resolve("users"));
        MirrorballConfig c = env("MIRRORBALL_UPSTREAM_USERNAME", "bob", "MIRRORBALL_UPSTREAM_PASSWORD", "pw",
                "MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString());
        assertEquals("bob", c.upstream().username());
        assertEquals("pw", c.upstream().password());
        assertEquals(htpasswd, c.auth().htpasswd());
    }

    @Test
    void load_tlsCertificateAndKey_setsBoth() throws IOException {
        Path certificate = Files.createFile(tmp.resolve("fullchain.pem"));
        Path key = Files.createFile(tmp.resolve("privkey.pem"));
        MirrorballConfig c = env("MIRRORBALL_HTTP_TLS_CERTIFICATE", certificate.toString(),
                "MIRRORBALL_HTTP_TLS_KEY", key.toString());
        assertEquals(Optional.of(new MirrorballConfig.Tls(certificate, key)), c.http().tls());
        MirrorballConfig fromYaml = yaml("http:\n  tls: { certificate: '%s', key: '%s' }\n".formatted(certificate, key));
        assertEquals(c.http().tls(), fromYaml.http().tls());
    }

    @ParameterizedTest
    @CsvSource({"MIRRORBALL_HTTP_TLS_CERTIFICATE, http.tls.key", "MIRRORBALL_HTTP_TLS_KEY, http.tls.certificate"})
    void load_tlsOneKeyWithoutTheOther_namesTheMissingKey(String set, String missing) throws IOException {
        Path file = Files.createFile(tmp.resolve("one.pem"));
        ConfigException e = envError(set, file.toString());
        assertEquals(missing, e.key());
        assertTrue(e.getMessage().contains("http.tls.certificate and http.tls.key must be set together"),
                e.getMessage());
    }

    @Test
    void load_tlsMissingKeyFile_namesKey() throws IOException {
        Path certificate = Files.createFile(tmp.resolve("fullchain.pem"));
        ConfigException e = assertThrows(ConfigException.class, () -> env(
                "MIRRORBALL_HTTP_TLS_CERTIFICATE", certificate.toString(),
                "MIRRORBALL_HTTP_TLS_KEY", tmp.resolve("absent.pem").toString()));
        assertEquals("http.tls.key", e.key());
        assertTrue(e.getMessage().contains("PEM file not found"), e.getMessage());
    }

    @Test
    void load_emptyEnvValue_clearsString() throws IOException {
        Path file = tmp.resolve("m.yml");
        Files.writeString(file, "upstream: { url: https://registry-1.docker.io }\n");
        MirrorballConfig c = ConfigLoader.load(Optional.of(file), Map.of("MIRRORBALL_UPSTREAM_URL", ""));
        assertFalse(c.upstream().enabled());
    }

    @Test
    void envName_everyKey_isUniqueAndAccepted() {
        Set<String> names = new HashSet<>();
        for (String key : ConfigLoader.keys()) {
            assertTrue(names.add(ConfigLoader.envName(key)), key);
        }
        assertEquals(40, names.size());
        assertEquals("MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT", ConfigLoader.envName("storage.ipfs.clone-timeout"));
        assertEquals("MIRRORBALL_AUTH_HTPASSWD_PATH", ConfigLoader.envName("auth.htpasswd.path"));
    }

    /** Every invalid value is refused with a message that starts with the key it is about. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            http.addr                    | 5000                 | invalid address '5000'
            http.addr                    | :65536               | port 65536 out of range
            http.addr                    | :-1                  | invalid port
            http.addr                    | :                    | invalid port
            http.addr                    | host:http            | invalid port
            http.addr                    | bad_host!:80         | invalid host
            http.addr                    | ::1:80               | write IPv6 hosts in brackets
            http.idle-timeout            | 0                    | must be longer than 0
            http.max-threads             | 4                    | 4 is out of range (use a whole number from 16
            http.max-threads             | lots                 | invalid number 'lots'
            http.max-connections-per-client | -1                | invalid number '-1'
            http.min-data-rate           | 1KiB                 | invalid number '1KiB'
            http.min-data-rate-window    | 0                    | must be longer than 0
            storage.ipfs.max-clone-waits | 0                    | 0 is out of range (use a whole number from 1
            storage.ipfs.node            | kubo                 | scheme must be http or https
            storage.ipfs.node            | ftp://x:5001         | scheme must be http or https
            storage.ipfs.node            | http://              | invalid URL
            storage.ipfs.node            | 'http://a:1,,http://b:1' | not a comma-separated list
            storage.ipfs.node            | 'embedded,http://a:1' | not a comma-separated list
            storage.ipfs.node            | 'http://a:5001,http://b:5001' | must be one Kubo RPC URL, not a comma-separated list
            storage.ipfs.node            | http://a:5001?x=1    | no user info, query or fragment
            storage.ipfs.node            | http://u@a:5001      | user info in the URL must be user:password
            storage.ipfs.node-auth       | token:abc            | unknown kind of secret
            storage.ipfs.node-auth       | 'bearer:'            | empty bearer token
            storage.ipfs.node-auth       | basic:onlyuser       | basic needs a user and a password
            storage.ipfs.embedded.gateways | gateway.link       | scheme must be http or https
            storage.ipfs.embedded.gateways | 'http://a:1,,http://b:1' | empty entry
            storage.ipfs.embedded.gateway-timeout | 0           | must be longer than 0
            storage.ipfs.mfs-root        | docker/registry      | must be an absolute MFS path
            storage.ipfs.mfs-root        | /docker/              | must not end with '/'
            storage.ipfs.mfs-root        | /                    | must not end with '/'
            storage.ipfs.mfs-root        | /a/../b              | '..' is not allowed
            storage.ipfs.mfs-root        | /a//b                | empty path segment
            storage.ipfs.clone           | maybe                | invalid boolean 'maybe' (use true or false)
            storage.ipfs.clone-timeout   | 60                   | invalid duration '60' (use e.g. 30s, 5m, 24h)
            storage.ipfs.clone-timeout   | 0                    | must be longer than 0
            storage.ipfs.clone-timeout   | -5s                  | invalid duration '-5s'
            storage.uploads.expire-after | abc                  | invalid duration 'abc' (use e.g. 30s, 5m, 24h)
            storage.uploads.expire-after | 1d                   | invalid duration '1d'
            storage.uploads.expire-after | 1..5h                | invalid duration
            upstream.tag-ttl             | 5 m                  | invalid duration
            upstream.tag-ttl             | 99999999999h         | too long
            upstream.url                 | docker.io            | scheme must be http or https
            upstream.url                 | https://u:p@docker.io | no user info
            upstream.mirror              | ''                   | invalid boolean ''
            upstream.publish             | yes please           | invalid boolean
            upstream.redirect-allow      | 'a,,b'               | empty entry
            upstream.redirect-allow      | http://cdn.example   | is neither a host name nor a CIDR
            upstream.redirect-allow      | 10.0.0.0/33          | invalid prefix length
            upstream.redirect-allow      | 300.1.2.3            | invalid IPv4 address
            upstream.redirect-allow      | example.com/8        | is neither a host name nor a CIDR
            auth.anonymous-pull          | 2                    | invalid boolean '2'
            auth.htpasswd.path           | /nonexistent/htpasswd | htpasswd file not found
            metrics.path                 | metrics              | must start with '/'
            metrics.path                 | /                    | must start with '/'
            metrics.path                 | /v2/metrics          | must not be under /v2
            metrics.path                 | /a b                 | without spaces
            log.level                    | verbose              | invalid value 'verbose' (use one of trace, debug, info, warn, error)
            log.format                   | logfmt               | invalid value 'logfmt' (use one of text, json)
            """)
    void load_invalidValue_namesKey(String key, String value, String problem) throws IOException {
        ConfigException fromEnv = envError(ConfigLoader.envName(key), value);
        assertTrue(fromEnv.getMessage().startsWith(key + ": "), fromEnv.getMessage());
        assertTrue(fromEnv.getMessage().contains(problem), fromEnv.getMessage());
        assertEquals(key, fromEnv.key());

        // the same value from YAML gives the same message
        String[] path = key.split("\\.");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < path.length; i++) {
            text.append("  ".repeat(i)).append(path[i]).append(':');
            text.append(i == path.length - 1 ? " '" + value.replace("'", "''") + "'\n" : "\n");
        }
        ConfigException fromYaml = assertThrows(ConfigException.class, () -> yaml(text.toString()));
        assertEquals(fromEnv.getMessage(), fromYaml.getMessage());
    }

    @Test
    void load_expireAfterAbc_hasDocumentedMessage() {
        assertEquals("storage.uploads.expire-after: invalid duration 'abc' (use e.g. 30s, 5m, 24h)",
                envError("MIRRORBALL_STORAGE_UPLOADS_EXPIRE_AFTER", "abc").getMessage());
    }

    @Test
    void load_configFileVariable_isNotAKey() {
        MirrorballConfig config = ConfigLoader.load(Optional.empty(), Map.of("MIRRORBALL_CONFIG", "/etc/x.yml"));
        assertEquals(5000, config.http().port());
    }

    @Test
    void load_usernameWithoutPassword_namesPassword() {
        ConfigException e = envError("MIRRORBALL_UPSTREAM_USERNAME", "bob");
        assertTrue(e.getMessage().startsWith("upstream.password: "), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"MIRRORBALL_HTTP_ADRR", "MIRRORBALL_STORAGE_IPFS", "MIRRORBALL_CONFIGS",
            "MIRRORBALL_UPSTREAM_TAGTTL", "MIRRORBALL_"})
    void load_unknownEnvVariable_isRejectedByName(String name) {
        ConfigException e = envError(name, "x");
        assertTrue(e.getMessage().startsWith(name + ": unknown environment variable"), e.getMessage());
        assertTrue(e.getMessage().contains("MIRRORBALL_HTTP_ADDR"), "lists the known names: " + e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http: { adr: ':5000' }                      | http.adr: unknown configuration key
            storage: { ipfs: { clone_timeout: 5s } }    | storage.ipfs.clone_timeout: unknown configuration key (did you mean storage.ipfs.clone-timeout?)
            storage: { ipfs: { cloneTimeout: 5s } }     | storage.ipfs.cloneTimeout: unknown configuration key (did you mean storage.ipfs.clone-timeout?)
            upstream: { ttl: 5m }                       | upstream.ttl: unknown configuration key (known keys of upstream: [mirror, name, password, publish, redirect-allow, tag-ttl, url, username])
            server: { addr: ':5000' }                   | server: unknown configuration key (known sections: [auth, cache, http, log, metrics, storage, upstream, upstreams])
            auth: { htpasswd: /etc/htpasswd }           | auth.htpasswd: must be a section with keys [path]
            http: { addr: [':5000'] }                   | http.addr: must be a single value, not a list
            http: ':5000'                               | http: must be a section
            """)
    void load_badYamlShape_isRejectedByKey(String text, String message) throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> yaml(text));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"- a\n- b\n", "http: {addr: ':1'}\nhttp: {addr: ':2'}\n", "http: [\n"})
    void load_malformedYaml_namesFile(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> yaml(text));
        assertTrue(e.getMessage().startsWith(tmp.resolve("mirrorball.yml") + ": "), e.getMessage());
    }

    @Test
    void load_missingFile_namesFile() {
        Path missing = tmp.resolve("nope.yml");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Optional.of(missing), Map.of()));
        assertEquals(missing + ": config file not found", e.getMessage());
    }

    @Test
    void load_otherEnvironmentVariables_areIgnored() {
        assertEquals(ConfigLoader.load(Optional.empty(), Map.of()),
                ConfigLoader.load(Optional.empty(), Map.of("MIRRORBALLX", "1", "mirrorball_http_addr", "x")));
    }

    @ParameterizedTest
    @CsvSource({"30s,PT30S", "5m,PT5M", "24h,PT24H", "1h30m,PT1H30M", "500ms,PT0.5S", "250us,PT0.00025S",
            "7ns,PT0.000000007S", "0,PT0S", "0s,PT0S", ".5s,PT0.5S", "2h45m30.5s,PT2H45M30.5S"})
    void parseDuration_goSyntax(String text, Duration expected) {
        assertEquals(expected, ConfigValues.parseDuration("k", text));
    }

    @Test
    void keys_matchDesign() {
        assertEquals(List.of("http.addr", "http.idle-timeout", "http.max-threads", "http.max-connections-per-client",
                "http.min-data-rate", "http.min-data-rate-window", "http.tls.certificate", "http.tls.key", "storage.ipfs.node", "storage.ipfs.node-auth",
                "storage.ipfs.embedded.path", "storage.ipfs.embedded.gateways", "storage.ipfs.embedded.gateway-timeout", "storage.ipfs.mfs-root",
                "storage.ipfs.clone", "storage.ipfs.clone-timeout", "storage.ipfs.max-clone-waits", "storage.ipfs.kubo-gc",
                "storage.uploads.path",
                "storage.uploads.expire-after", "upstream.name", "upstream.url", "upstream.username", "upstream.password",
                "upstream.tag-ttl", "upstream.mirror", "upstream.publish", "upstream.redirect-allow", "cache.max-size", "cache.max-idle", "auth.htpasswd.path",
                "auth.token.realm", "auth.token.service", "auth.token.issuer", "auth.token.rootcertbundle",
                "auth.anonymous-pull", "auth.admins", "metrics.path", "log.level", "log.format"), ConfigLoader.keys());
    }

    @Test
    void load_nodeAuth_keptAndNeverShown() {
        MirrorballConfig c = env("MIRRORBALL_STORAGE_IPFS_NODE", "http://127.0.0.1:5001",
                "MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "bearer:s3cr3t-token");
        assertEquals("bearer:s3cr3t-token", c.storage().ipfs().nodeAuth());
        assertFalse(c.toString().contains("s3cr3t"), c.toString());
        assertEquals("", ConfigLoader.load(Optional.empty(), Map.of()).storage().ipfs().nodeAuth());
    }

    @Test
    void load_passwordInNodeUrl_maskedForDisplay() {
        MirrorballConfig c = env("MIRRORBALL_STORAGE_IPFS_NODE", "http://alice:s3cr3t@127.0.0.1:5001");
        assertEquals("http://alice:s3cr3t@127.0.0.1:5001", c.storage().ipfs().node());
        assertEquals("http://alice:***@127.0.0.1:5001", c.storage().ipfs().nodeForDisplay());
        assertFalse(c.toString().contains("s3cr3t"), c.toString());
        assertEquals("http://127.0.0.1:5001", MirrorballConfig.Ipfs.mask("http://127.0.0.1:5001"));
    }

    @Test
    void load_nodeAuthAndPasswordInUrl_isError() {
        ConfigException e = assertThrows(ConfigException.class, () -> env(
                "MIRRORBALL_STORAGE_IPFS_NODE", "http://alice:s3cr3t@127.0.0.1:5001",
                "MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "basic:bob:0th3r"));
        assertTrue(e.getMessage().startsWith("storage.ipfs.node-auth: "), e.getMessage());
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3t") || e.getMessage().contains("0th3r"), e.getMessage());
    }

    @Test
    void load_nodeAuthWithEmbedded_isError() {
        ConfigException e = envError("MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "bearer:s3cr3t");
        assertEquals("storage.ipfs.node-auth", e.key());
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    }

    @Test
    void load_badNodeAuth_doesNotEchoSecret() {
        ConfigException e = envError("MIRRORBALL_STORAGE_IPFS_NODE_AUTH", "basic:s3cr3t");
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
        ConfigException badUser = envError("MIRRORBALL_STORAGE_IPFS_NODE", "http://s3cr3t@127.0.0.1:5001");
        assertFalse(badUser.getMessage().contains("s3cr3t"), badUser.getMessage());
    }

    @Test
    void load_commaListInNode_isErrorNamingKey() {
        ConfigException e = envError("MIRRORBALL_STORAGE_IPFS_NODE", "http://a:5001,http://b:5001");
        assertEquals("storage.ipfs.node", e.key());
        assertTrue(e.getMessage().contains("comma-separated list"), e.getMessage());
    }
}
