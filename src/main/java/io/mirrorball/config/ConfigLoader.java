package io.mirrorball.config;

import static io.mirrorball.config.ConfigValues.parseAddr;
import static io.mirrorball.config.ConfigValues.parseAge;
import static io.mirrorball.config.ConfigValues.parseBoolean;
import static io.mirrorball.config.ConfigValues.parseChoice;
import static io.mirrorball.config.ConfigValues.parseDuration;
import static io.mirrorball.config.ConfigValues.parseGateways;
import static io.mirrorball.config.ConfigValues.parseInt;
import static io.mirrorball.config.ConfigValues.parseMetricsPath;
import static io.mirrorball.config.ConfigValues.parseMfsRoot;
import static io.mirrorball.config.ConfigValues.parseNode;
import static io.mirrorball.config.ConfigValues.parseNodeAuth;
import static io.mirrorball.config.ConfigValues.parsePath;
import static io.mirrorball.config.ConfigValues.parsePemFile;
import static io.mirrorball.config.ConfigValues.parseRedirectAllow;
import static io.mirrorball.config.ConfigValues.parseSize;
import static io.mirrorball.config.ConfigValues.parseUpstreamName;
import static io.mirrorball.config.ConfigValues.parseUpstreamUrl;
import static io.mirrorball.config.ConfigValues.positive;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads {@link MirrorballConfig}: built-in defaults, then the YAML file, then {@code MIRRORBALL_*}
 * environment overrides ({@link ConfigTree}), bound by Jackson into {@link RawConfig}, then every value
 * validated into the typed records.
 *
 * <p>The override name of a key is {@code MIRRORBALL_} plus the dotted path upper-cased, with
 * {@code .} and {@code -} turned into {@code _} ({@code storage.ipfs.clone-timeout} is
 * {@code MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT}); entries of {@code upstreams} are set with
 * {@code MIRRORBALL_UPSTREAMS_<N>_<KEY>} or replaced whole with {@code MIRRORBALL_UPSTREAMS}.
 * Unknown YAML keys and unknown {@code MIRRORBALL_*} variables are errors: a typo is never
 * silently ignored.
 */
public final class ConfigLoader {

    /** The prefix of every override variable. */
    public static final String ENV_PREFIX = "MIRRORBALL_";
    /** Names the configuration file (for the WAR, which has no command line); not a configuration key. */
    public static final String CONFIG_FILE_ENV = "MIRRORBALL_CONFIG";

    private static final ObjectMapper BINDER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private ConfigLoader() {
    }

    /**
     * Loads the configuration.
     *
     * @param yamlFile the YAML file; empty means built-in defaults only. A given file must exist.
     * @param env      the environment (usually {@link System#getenv()}); only {@code MIRRORBALL_*}
     *                 entries are looked at, and each must name a known key
     * @throws ConfigException naming the offending key, variable or file
     */
    public static MirrorballConfig load(Optional<Path> yamlFile, Map<String, String> env) {
        ObjectNode tree = ConfigTree.defaults();
        yamlFile.ifPresent(file -> ConfigTree.mergeFile(tree, file));
        ConfigTree.mergeEnv(tree, env);
        RawConfig raw;
        try {
            raw = BINDER.treeToValue(tree, RawConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            // the tree was checked against the schema, so this is a bug, not bad input
            throw new IllegalStateException("binding the checked configuration failed: " + e.getMessage(), e);
        }
        return build(raw);
    }

    /** The override variable of a dotted key, e.g. {@code MIRRORBALL_UPSTREAM_TAG_TTL}. */
    public static String envName(String key) {
        return ConfigTree.envName(key);
    }

    /** Every known dotted key of a single value or a list of values, in documentation order. */
    public static List<String> keys() {
        return ConfigTree.keys();
    }

    // ---- validation ---------------------------------------------------------------------------

    private static MirrorballConfig build(RawConfig v) {
        Path workDir = Path.of("").toAbsolutePath();
        RawConfig.Http h = v.http();
        ConfigValues.HostPort addr = parseAddr("http.addr", h.addr());
        MirrorballConfig.Http http = new MirrorballConfig.Http(addr.host(), addr.port(),
                positive("http.idle-timeout", h.idleTimeout()),
                parseInt("http.max-threads", h.maxThreads(), 16, 100_000),
                parseInt("http.max-connections-per-client", h.maxConnectionsPerClient(), 0, 1_000_000),
                parseInt("http.min-data-rate", h.minDataRate(), 0, Integer.MAX_VALUE),
                positive("http.min-data-rate-window", h.minDataRateWindow()),
                tls(h.tls(), workDir));
        RawConfig.Ipfs i = v.storage().ipfs();
        String node = parseNode("storage.ipfs.node", i.node());
        MirrorballConfig.Ipfs ipfs = new MirrorballConfig.Ipfs(node,
                parseNodeAuth("storage.ipfs.node-auth", i.nodeAuth(), node),
                new MirrorballConfig.Embedded(parsePath("storage.ipfs.embedded.path", i.embedded().path(), workDir),
                        parseGateways("storage.ipfs.embedded.gateways", i.embedded().gateways()),
                        positive("storage.ipfs.embedded.gateway-timeout", i.embedded().gatewayTimeout())),
                parseMfsRoot("storage.ipfs.mfs-root", i.mfsRoot()),
                parseBoolean("storage.ipfs.clone", i.cloneEnabled()),
                positive("storage.ipfs.clone-timeout", i.cloneTimeout()),
                parseInt("storage.ipfs.max-clone-waits", i.maxCloneWaits(), 1, 100_000),
                parseBoolean("storage.ipfs.kubo-gc", i.kuboGc()));
        RawConfig.Uploads u = v.storage().uploads();
        MirrorballConfig.Uploads uploads = new MirrorballConfig.Uploads(
                parsePath("storage.uploads.path", u.path(), workDir),
                positive("storage.uploads.expire-after", u.expireAfter()));
        MirrorballConfig.Upstream upstream = upstream("upstream", v.upstream(), v.upstream().name().isBlank() ? null
                : parseUpstreamName("upstream.name", v.upstream().name()));
        List<MirrorballConfig.Upstream> upstreams = upstreams(v.upstreams(), upstream);
        MirrorballConfig.Cache cache = new MirrorballConfig.Cache(
                parseSize("cache.max-size", v.cache().maxSize()),
                parseAge("cache.max-idle", v.cache().maxIdle()));
        MirrorballConfig.Auth auth = AuthSection.build(v.auth(), workDir);
        MirrorballConfig.Metrics metrics = new MirrorballConfig.Metrics(
                parseMetricsPath("metrics.path", v.metrics().path()));
        MirrorballConfig.Log log = new MirrorballConfig.Log(
                parseChoice("log.level", v.log().level(), MirrorballConfig.Log.LEVELS),
                parseChoice("log.format", v.log().format(), MirrorballConfig.Log.FORMATS));
        return new MirrorballConfig(http, new MirrorballConfig.Storage(ipfs, uploads), upstream, upstreams, cache,
                auth, metrics, log);
    }

    /** {@code http.tls}: both files or neither. */
    private static Optional<MirrorballConfig.Tls> tls(RawConfig.Tls t, Path workDir) {
        if (t.certificate().isEmpty() && t.key().isEmpty()) {
            return Optional.empty();
        }
        if (t.certificate().isEmpty() || t.key().isEmpty()) {
            String missing = t.certificate().isEmpty() ? "http.tls.certificate" : "http.tls.key";
            throw new ConfigException(missing, "http.tls.certificate and http.tls.key must be set together");
        }
        return Optional.of(new MirrorballConfig.Tls(
                parsePemFile("http.tls.certificate", t.certificate(), workDir),
                parsePemFile("http.tls.key", t.key(), workDir)));
    }

    /** The entries of {@code upstreams}: each with a URL, and no two (or one and the default) for one registry. */
    private static List<MirrorballConfig.Upstream> upstreams(List<RawConfig.Upstream> entries,
                                                             MirrorballConfig.Upstream standard) {
        List<MirrorballConfig.Upstream> list = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        if (standard.enabled()) {
            seen.put(standard.name(), "upstream.url");  // or upstream.name, when set
        }
        for (int n = 0; n < entries.size(); n++) {
            String prefix = ConfigTree.UPSTREAMS + "[" + n + "]";
            RawConfig.Upstream entry = entries.get(n);
            String name = parseUpstreamName(prefix + ".name", entry.name());
            if (entry.url().isBlank()) {
                throw new ConfigException(prefix + ".url", "is required: the registry's URL, e.g. https://" + name);
            }
            String previous = seen.putIfAbsent(name, prefix + ".name");
            if (previous != null) {
                throw new ConfigException(prefix + ".name", "upstream " + name + " is already configured by "
                        + previous + "; one upstream per registry");
            }
            list.add(upstream(prefix, entry, name));
        }
        return list;
    }

    private static MirrorballConfig.Upstream upstream(String prefix, RawConfig.Upstream u, String name) {
        String username = u.username();
        String password = u.password();
        if (username.isEmpty() != password.isEmpty()) {
            throw new ConfigException(prefix + (username.isEmpty() ? ".username" : ".password"),
                    prefix + ".username and " + prefix + ".password must be set together");
        }
        String url = parseUpstreamUrl(prefix + ".url", u.url());
        return new MirrorballConfig.Upstream(name == null ? MirrorballConfig.Upstream.hostOf(url) : name, url,
                username, password,
                parseDuration(prefix + ".tag-ttl", u.tagTtl()),
                parseBoolean(prefix + ".mirror", u.mirror()),
                parseBoolean(prefix + ".publish", u.publish()),
                parseRedirectAllow(prefix + ".redirect-allow", u.redirectAllow()));
    }
}
