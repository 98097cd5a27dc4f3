package io.mirrorball.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Loads {@link MirrorballConfig}: built-in defaults, then the YAML file, then {@code MIRRORBALL_*}
 * environment overrides, then validation of every value.
 *
 * <p>The override name of a key is {@code MIRRORBALL_} plus the dotted path upper-cased, with
 * {@code .} and {@code -} turned into {@code _} ({@code storage.ipfs.clone-timeout} is
 * {@code MIRRORBALL_STORAGE_IPFS_CLONE_TIMEOUT}). The mapping is built from the known keys, so the
 * {@code _} ambiguity is resolved by lookup. Unknown YAML keys and unknown {@code MIRRORBALL_*}
 * variables are errors: a typo is never silently ignored.
 */
public final class ConfigLoader {

    /** The prefix of every override variable. */
    public static final String ENV_PREFIX = "MIRRORBALL_";
    /** Names the configuration file (for the WAR, which has no command line); not a configuration key. */
    public static final String CONFIG_FILE_ENV = "MIRRORBALL_CONFIG";

    /** Every known key with its default, in the order of DESIGN.md. */
    private static final Map<String, String> DEFAULTS = defaults();

    /** Keys whose value is a list: a YAML list, or a comma-separated string (as in the environment). */
    private static final Set<String> LIST_KEYS = Set.of("storage.ipfs.embedded.gateways", "upstream.redirect-allow");

    /** {@code MIRRORBALL_STORAGE_IPFS_NODE} to {@code storage.ipfs.node}. */
    private static final Map<String, String> ENV_TO_KEY = envToKey();

    private static final String DURATION_HINT = "(use e.g. 30s, 5m, 24h)";
    private static final Pattern HOST_NAME = Pattern.compile(
            "[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\\.?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?");

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
        Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
        yamlFile.ifPresent(file -> values.putAll(readYaml(file)));
        values.putAll(readEnv(env));
        return build(values);
    }

    /** The override variable of a dotted key, e.g. {@code MIRRORBALL_UPSTREAM_TAG_TTL}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Every known dotted key, in documentation order. */
    public static List<String> keys() {
        return List.copyOf(DEFAULTS.keySet());
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("http.addr", ":5000");
        d.put("http.idle-timeout", "60s");
        d.put("http.max-threads", "256");
        d.put("http.max-connections-per-client", "64");
        d.put("http.min-data-rate", "1024");
        d.put("http.min-data-rate-window", "30s");
        d.put("storage.ipfs.node", "embedded");
        d.put("storage.ipfs.node-auth", "");
        d.put("storage.ipfs.embedded.path", "./data/ipfs");
        d.put("storage.ipfs.embedded.gateways", "");
        d.put("storage.ipfs.embedded.gateway-timeout", "30s");
        d.put("storage.ipfs.mfs-root", "/docker/registry/v2");
        d.put("storage.ipfs.clone", "true");
        d.put("storage.ipfs.clone-timeout", "60s");
        d.put("storage.ipfs.max-clone-waits", "64");
        d.put("storage.uploads.path", "./data/uploads");
        d.put("storage.uploads.expire-after", "24h");
        d.put("upstream.url", "");
        d.put("upstream.username", "");
        d.put("upstream.password", "");
        d.put("upstream.tag-ttl", "5m");
        d.put("upstream.mirror", "true");
        d.put("upstream.publish", "false");
        d.put("upstream.redirect-allow", "");
        d.put("auth.htpasswd.path", "");
        d.put("auth.anonymous-pull", "true");
        d.put("metrics.path", "/metrics");
        return Collections.unmodifiableMap(d);
    }

    private static Map<String, String> envToKey() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String key : DEFAULTS.keySet()) {
            String previous = m.put(envName(key), key);
            if (previous != null) {
                throw new IllegalStateException("keys " + previous + " and " + key + " share " + envName(key));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    // ---- sources ------------------------------------------------------------------------------

    private static Map<String, String> readYaml(Path file) {
        YAMLMapper mapper = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
        JsonNode root;
        try (InputStream in = Files.newInputStream(file)) {
            root = mapper.readTree(in);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), "config file not found");
        } catch (JacksonException e) {
            throw new ConfigException(file.toString(), "invalid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "cannot read config file: " + e, e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return values; // an empty file means defaults
        }
        if (!root.isObject()) {
            throw new ConfigException(file.toString(), "the top level must be a mapping of sections, not "
                    + describe(root));
        }
        flatten("", root, values);
        return values;
    }

    private static void flatten(String prefix, JsonNode object, Map<String, String> values) {
        for (Map.Entry<String, JsonNode> field : object.properties()) {
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            JsonNode node = field.getValue();
            if (LIST_KEYS.contains(key) && node.isArray()) {
                List<String> items = new ArrayList<>();
                for (JsonNode item : node) {
                    if (item.isContainerNode() || item.isNull()) {
                        throw new ConfigException(key, "list items must be single values, not " + describe(item));
                    }
                    items.add(item.asText());
                }
                values.put(key, String.join(",", items));
            } else if (DEFAULTS.containsKey(key)) {
                if (node.isContainerNode()) {
                    throw new ConfigException(key, "must be a single value, not " + describe(node));
                }
                if (!node.isNull()) { // "key:" with nothing keeps the default
                    values.put(key, node.asText());
                }
            } else if (isSection(key)) {
                if (node.isObject()) {
                    flatten(key, node, values);
                } else if (!node.isNull()) {
                    throw new ConfigException(key, "must be a section with keys " + childrenOf(key) + ", not "
                            + describe(node));
                }
            } else {
                throw new ConfigException(key, "unknown configuration key" + suggestion(key));
            }
        }
    }

    private static Map<String, String> readEnv(Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith(ENV_PREFIX) || name.equals(CONFIG_FILE_ENV)) {
                continue;
            }
            String key = ENV_TO_KEY.get(name);
            if (key == null) {
                throw new ConfigException(name, "unknown environment variable (known: "
                        + String.join(", ", ENV_TO_KEY.keySet()) + ")");
            }
            values.put(key, env.get(name));
        }
        return values;
    }

    private static boolean isSection(String key) {
        return DEFAULTS.keySet().stream().anyMatch(k -> k.startsWith(key + "."));
    }

    private static Set<String> childrenOf(String section) {
        Set<String> children = new TreeSet<>();
        for (String k : DEFAULTS.keySet()) {
            if (k.startsWith(section + ".")) {
                children.add(k.substring(section.length() + 1).split("\\.")[0]);
            }
        }
        return children;
    }

    private static String suggestion(String key) {
        String wanted = squash(key);
        for (String known : DEFAULTS.keySet()) {
            if (squash(known).equals(wanted)) {
                return " (did you mean " + known + "?)";
            }
        }
        int dot = key.lastIndexOf('.');
        if (dot > 0 && isSection(key.substring(0, dot))) {
            return " (known keys of " + key.substring(0, dot) + ": " + childrenOf(key.substring(0, dot)) + ")";
        }
        if (dot < 0) {
            return " (known sections: " + childrenOfRoot() + ")";
        }
        return "";
    }

    private static Set<String> childrenOfRoot() {
        Set<String> roots = new TreeSet<>();
        DEFAULTS.keySet().forEach(k -> roots.add(k.split("\\.")[0]));
        return roots;
    }

    private static String squash(String key) {
        return key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    private static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return "'" + node.asText() + "'";
    }

    // ---- validation ---------------------------------------------------------------------------

    private static MirrorballConfig build(Map<String, String> v) {
        Path workDir = Path.of("").toAbsolutePath();
        HostPort addr = parseAddr("http.addr", v.get("http.addr"));
        MirrorballConfig.Http http = new MirrorballConfig.Http(addr.host(), addr.port(),
                positive("http.idle-timeout", v.get("http.idle-timeout")),
                parseInt("http.max-threads", v.get("http.max-threads"), 16, 100_000),
                parseInt("http.max-connections-per-client", v.get("http.max-connections-per-client"), 0, 1_000_000),
                parseInt("http.min-data-rate", v.get("http.min-data-rate"), 0, Integer.MAX_VALUE),
                positive("http.min-data-rate-window", v.get("http.min-data-rate-window")));
        MirrorballConfig.Ipfs ipfs = new MirrorballConfig.Ipfs(
                parseNode("storage.ipfs.node", v.get("storage.ipfs.node")),
                parseNodeAuth("storage.ipfs.node-auth", v.get("storage.ipfs.node-auth"),
                        parseNode("storage.ipfs.node", v.get("storage.ipfs.node"))),
                new MirrorballConfig.Embedded(parsePath("storage.ipfs.embedded.path",
                        v.get("storage.ipfs.embedded.path"), workDir),
                        parseGateways("storage.ipfs.embedded.gateways", v.get("storage.ipfs.embedded.gateways")),
                        positive("storage.ipfs.embedded.gateway-timeout",
                                v.get("storage.ipfs.embedded.gateway-timeout"))),
                parseMfsRoot("storage.ipfs.mfs-root", v.get("storage.ipfs.mfs-root")),
                parseBoolean("storage.ipfs.clone", v.get("storage.ipfs.clone")),
                positive("storage.ipfs.clone-timeout", v.get("storage.ipfs.clone-timeout")),
                parseInt("storage.ipfs.max-clone-waits", v.get("storage.ipfs.max-clone-waits"), 1, 100_000));
        MirrorballConfig.Uploads uploads = new MirrorballConfig.Uploads(
                parsePath("storage.uploads.path", v.get("storage.uploads.path"), workDir),
                positive("storage.uploads.expire-after", v.get("storage.uploads.expire-after")));
        String username = v.get("upstream.username");
        String password = v.get("upstream.password");
        if (username.isEmpty() != password.isEmpty()) {
            throw new ConfigException(username.isEmpty() ? "upstream.username" : "upstream.password",
                    "upstream.username and upstream.password must be set together");
        }
        MirrorballConfig.Upstream upstream = new MirrorballConfig.Upstream(
                parseUpstreamUrl("upstream.url", v.get("upstream.url")),
                username,
                password,
                parseDuration("upstream.tag-ttl", v.get("upstream.tag-ttl")),
                parseBoolean("upstream.mirror", v.get("upstream.mirror")),
                parseBoolean("upstream.publish", v.get("upstream.publish")),
                parseRedirectAllow("upstream.redirect-allow", v.get("upstream.redirect-allow")));
        MirrorballConfig.Auth auth = new MirrorballConfig.Auth(
                parseHtpasswd("auth.htpasswd.path", v.get("auth.htpasswd.path"), workDir),
                parseBoolean("auth.anonymous-pull", v.get("auth.anonymous-pull")));
        MirrorballConfig.Metrics metrics = new MirrorballConfig.Metrics(
                parseMetricsPath("metrics.path", v.get("metrics.path")));
        return new MirrorballConfig(http, new MirrorballConfig.Storage(ipfs, uploads), upstream, List.of(),
                MirrorballConfig.Cache.NONE, auth, metrics);
    }

    /** The host and port of {@code http.addr}. */
    record HostPort(String host, int port) {
    }

    static HostPort parseAddr(String key, String raw) {
        String value = raw.trim();
        String hint = " (use host:port or :port, e.g. :5000 or 127.0.0.1:5000)";
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException(key, "invalid address '" + raw + "'" + hint);
        }
        String host = value.substring(0, colon);
        String portText = value.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]") && host.length() > 2) {
            host = host.substring(1, host.length() - 1);
            if (!IPV6.matcher(host).matches() || !host.contains(":")) {
                throw new ConfigException(key, "invalid IPv6 address in '" + raw + "'" + hint);
            }
        } else if (host.contains(":")) {
            throw new ConfigException(key, "invalid address '" + raw + "': write IPv6 hosts in brackets, "
                    + "e.g. [::1]:5000");
        } else if (!host.isEmpty() && !HOST_NAME.matcher(host).matches()) {
            throw new ConfigException(key, "invalid host '" + host + "' in '" + raw + "'" + hint);
        }
        int port;
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ConfigException(key, "invalid port '" + portText + "' in '" + raw + "' (use 0..65535)");
        }
        port = Integer.parseInt(portText);
        if (port > 65535) {
            throw new ConfigException(key, "port " + port + " out of range in '" + raw + "' (use 0..65535)");
        }
        return new HostPort(host.isEmpty() ? "0.0.0.0" : host, port);
    }

    /**
     * {@code embedded}, or one Kubo RPC URL; the URL may carry Basic credentials for Kubo's
     * {@code API.Authorizations} ({@code http://user:password@host:5001}). Messages never echo them.
     */
    static String parseNode(String key, String raw) {
        String value = raw.trim();
        if (value.equals("embedded")) {
            return value;
        }
        if (value.isEmpty()) {
            throw new ConfigException(key, "must be 'embedded' or a Kubo RPC URL such as http://127.0.0.1:5001");
        }
        if (value.contains(",")) {
            throw new ConfigException(key, "must be one Kubo RPC URL, not a comma-separated list (one node only)");
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new ConfigException(key, "invalid URL '" + MirrorballConfig.Ipfs.mask(value) + "' (use a Kubo RPC URL"
                    + " such as http://127.0.0.1:5001, or 'embedded')");
        }
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null) {
            return httpUrl(key, value, "a Kubo RPC URL such as http://127.0.0.1:5001, or 'embedded'");
        }
        int colon = userInfo.indexOf(':');
        if (colon <= 0 || colon == userInfo.length() - 1) {
            throw new ConfigException(key, "user info in the URL must be user:password (Basic credentials of Kubo's"
                    + " API.Authorizations), e.g. http://user:***@127.0.0.1:5001");
        }
        String withoutUser = value.replaceFirst(Pattern.quote(userInfo + "@"), "");
        httpUrl(key, withoutUser, "a Kubo RPC URL such as http://user:password@127.0.0.1:5001, or 'embedded'");
        return value;
    }

    /**
     * The secret of Kubo's {@code API.Authorizations} ({@code basic:user:password} or
     * {@code bearer:token}), or "" for none. Messages never echo it.
     */
    static String parseNodeAuth(String key, String raw, String node) {
        String value = raw.trim();
        if (value.isEmpty()) {
            return "";
        }
        String hint = " (use basic:<user>:<password> or bearer:<token>, as in Kubo's API.Authorizations AuthSecret)";
        String lower = value.toLowerCase(Locale.ROOT);
        if (lower.startsWith("bearer:")) {
            if (value.length() == "bearer:".length()) {
                throw new ConfigException(key, "empty bearer token" + hint);
            }
        } else if (lower.startsWith("basic:")) {
            String credentials = value.substring("basic:".length());
            int colon = credentials.indexOf(':');
            if (colon <= 0 || colon == credentials.length() - 1) {
                throw new ConfigException(key, "basic needs a user and a password" + hint);
            }
        } else {
            throw new ConfigException(key, "unknown kind of secret" + hint);
        }
        if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException(key, "control character in the secret" + hint);
        }
        if (node.equals("embedded")) {
            throw new ConfigException(key, "is for a Kubo node; storage.ipfs.node is 'embedded'");
        }
        if (URI.create(node).getRawUserInfo() != null) {
            throw new ConfigException(key, "set the credentials either here or in the storage.ipfs.node URL, not both");
        }
        return value;
    }

    /** A comma-separated list of http(s) gateway URLs; "" is the empty list. */
    static List<URI> parseGateways(String key, String raw) {
        String value = raw.trim();
        if (value.isEmpty()) {
            return List.of();
        }
        List<URI> urls = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String url = part.trim();
            if (url.isEmpty()) {
                throw new ConfigException(key, "empty entry in the URL list '" + raw + "'");
            }
            urls.add(URI.create(httpUrl(key, url, "IPFS trustless gateway URLs such as https://trustless-gateway.link")));
        }
        return List.copyOf(urls);
    }

    /** A comma-separated list of host names, IP addresses and CIDRs (10.0.0.0/8, fd00::/8); "" is empty. */
    static List<String> parseRedirectAllow(String key, String raw) {
        String value = raw.trim();
        if (value.isEmpty()) {
            return List.of();
        }
        List<String> entries = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String entry = part.trim();
            String hint = " (use host names, IP addresses or CIDRs such as 10.0.0.0/8 or fd00::/8)";
            if (entry.isEmpty()) {
                throw new ConfigException(key, "empty entry in the list '" + raw + "'");
            }
            int slash = entry.indexOf('/');
            String address = slash < 0 ? entry : entry.substring(0, slash);
            boolean v4 = address.matches("\\d{1,3}(\\.\\d{1,3}){3}");
            boolean v6 = address.contains(":") && IPV6.matcher(address).matches();
            if (v4 || v6) {
                if (v4 && java.util.Arrays.stream(address.split("\\.")).anyMatch(p -> Integer.parseInt(p) > 255)) {
                    throw new ConfigException(key, "invalid IPv4 address in '" + entry + "'" + hint);
                }
                int max = v4 ? 32 : 128;
                if (slash >= 0) {
                    String prefix = entry.substring(slash + 1);
                    if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > max) {
                        throw new ConfigException(key, "invalid prefix length in '" + entry + "' (use 0.." + max + ")");
                    }
                }
            } else if (slash >= 0 || !HOST_NAME.matcher(entry).matches()) {
                throw new ConfigException(key, "'" + entry + "' is neither a host name nor a CIDR" + hint);
            }
            entries.add(entry);
        }
        return List.copyOf(entries);
    }

    static String parseUpstreamUrl(String key, String raw) {
        String value = raw.trim();
        if (value.isEmpty()) {
            return "";
        }
        return httpUrl(key, value, "an http(s) URL such as https://registry-1.docker.io, or \"\" for none");
    }

    private static String httpUrl(String key, String value, String expected) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new ConfigException(key, "invalid URL '" + value + "': " + e.getReason() + " (use " + expected + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(key, "invalid URL '" + value + "': scheme must be http or https (use "
                    + expected + ")");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException(key, "invalid URL '" + value + "': no host (use " + expected + ")");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new ConfigException(key, "invalid URL '" + value
                    + "': no user info, query or fragment allowed (use " + expected + ")");
        }
        return value;
    }

    static String parseMfsRoot(String key, String raw) {
        if (!raw.startsWith("/")) {
            throw new ConfigException(key, "must be an absolute MFS path such as /docker/registry/v2, not '" + raw + "'");
        }
        if (raw.equals("/") || raw.endsWith("/")) {
            throw new ConfigException(key, "must not end with '/' (got '" + raw + "')");
        }
        for (String segment : raw.substring(1).split("/", -1)) {
            if (segment.isEmpty()) {
                throw new ConfigException(key, "empty path segment in '" + raw + "'");
            }
            if (segment.equals("..") || segment.equals(".")) {
                throw new ConfigException(key, "'" + segment + "' is not allowed in '" + raw + "'");
            }
            if (segment.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '\\')) {
                throw new ConfigException(key, "control character or backslash in '" + raw + "'");
            }
        }
        return raw;
    }

    /** A whole number from {@code min} to {@code max}. */
    static int parseInt(String key, String raw, int min, int max) {
        String value = raw.trim();
        String range = " (use a whole number from " + min + " to " + max + ")";
        if (value.isEmpty() || value.length() > 10 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ConfigException(key, "invalid number '" + raw + "'" + range);
        }
        long n = Long.parseLong(value);
        if (n < min || n > max) {
            throw new ConfigException(key, n + " is out of range" + range);
        }
        return (int) n;
    }

    static boolean parseBoolean(String key, String raw) {
        switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1":
                return true;
            case "false", "no", "off", "0":
                return false;
            default:
                throw new ConfigException(key, "invalid boolean '" + raw + "' (use true or false)");
        }
    }

    private static Duration positive(String key, String raw) {
        Duration d = parseDuration(key, raw);
        if (d.isZero()) {
            throw new ConfigException(key, "must be longer than 0 (got '" + raw + "') " + DURATION_HINT);
        }
        return d;
    }

    /**
     * A Go-style duration: a sequence of decimal numbers, each with a unit (ns, us, µs, ms, s, m, h),
     * such as {@code 30s}, {@code 1h30m}, {@code 1.5h}, {@code 500ms}; or {@code 0}. Negative
     * durations are rejected.
     */
    static Duration parseDuration(String key, String raw) {
        String s = raw.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw new ConfigException(key, "invalid duration '" + raw + "' " + DURATION_HINT);
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            String unit = s.substring(unitStart, i);
            long unitNanos = switch (unit) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> -1L;
            };
            if (unitNanos < 0 || number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')
                    || !number.chars().allMatch(c -> Character.isDigit(c) && c < 128 || c == '.')) {
                throw new ConfigException(key, "invalid duration '" + raw + "' " + DURATION_HINT);
            }
            nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos)));
        }
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ConfigException(key, "duration '" + raw + "' is too long");
        }
        return Duration.ofNanos(nanos.longValue());
    }

    private static Path parsePath(String key, String raw, Path workDir) {
        if (raw.isBlank()) {
            throw new ConfigException(key, "must not be empty");
        }
        try {
            return workDir.resolve(raw).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(key, "invalid path '" + raw + "': " + e.getReason());
        }
    }

    private static Path parseHtpasswd(String key, String raw, Path workDir) {
        if (raw.isEmpty()) {
            return null;
        }
        Path path = parsePath(key, raw, workDir);
        if (!Files.isRegularFile(path)) {
            throw new ConfigException(key, "htpasswd file not found: " + path);
        }
        if (!Files.isReadable(path)) {
            throw new ConfigException(key, "htpasswd file not readable: " + path);
        }
        return path;
    }

    static String parseMetricsPath(String key, String raw) {
        if (!raw.startsWith("/") || raw.length() < 2) {
            throw new ConfigException(key, "must start with '/' and name a path, e.g. /metrics (got '" + raw + "')");
        }
        if (raw.equals("/v2") || raw.startsWith("/v2/")) {
            throw new ConfigException(key, "must not be under /v2, which is the registry API (got '" + raw + "')");
        }
        if (raw.chars().anyMatch(c -> c <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '*')) {
            throw new ConfigException(key, "must be a plain path without spaces, '?', '#' or '*' (got '" + raw + "')");
        }
        return raw;
    }
}
