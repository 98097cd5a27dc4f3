package io.mirrorball.config;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the values of configuration keys: each takes the key (for its message) and the text
 * that was written, and returns the value or throws a {@link ConfigException} that names the key,
 * says what is wrong and how to write it.
 */
final class ConfigValues {
    private static final String DURATION_HINT = "(use e.g. 30s, 5m, 24h)";
    private static final Pattern HOST_NAME = Pattern.compile(
            "[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\\.?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]i?B|B)?");

    private ConfigValues() {
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

    static String httpUrl(String key, String value, String expected) {
        String shown = MirrorballConfig.Ipfs.mask(value); // a password in the URL is never echoed
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new ConfigException(key, "invalid URL '" + shown + "': " + e.getReason() + " (use " + expected + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(key, "invalid URL '" + shown + "': scheme must be http or https (use "
                    + expected + ")");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException(key, "invalid URL '" + shown + "': no host (use " + expected + ")");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new ConfigException(key, "invalid URL '" + shown
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

    /** One of {@code choices} (lower case), in any case. */
    static String parseChoice(String key, String raw, List<String> choices) {
        String value = raw.trim().toLowerCase(Locale.ROOT);
        if (!choices.contains(value)) {
            throw new ConfigException(key, "invalid value '" + raw + "' (use one of " + String.join(", ", choices) + ")");
        }
        return value;
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

    static Duration positive(String key, String raw) {
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

    static Path parsePath(String key, String raw, Path workDir) {
        if (raw.isBlank()) {
            throw new ConfigException(key, "must not be empty");
        }
        try {
            return workDir.resolve(raw).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(key, "invalid path '" + raw + "': " + e.getReason());
        }
    }

    static Path parseHtpasswd(String key, String raw, Path workDir) {
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

    /** A PEM file of {@code http.tls} that exists and can be read (whether it parses is the server's check). */
    static Path parsePemFile(String key, String raw, Path workDir) {
        Path path = parsePath(key, raw, workDir);
        if (!Files.isRegularFile(path)) {
            throw new ConfigException(key, "PEM file not found: " + path);
        }
        if (!Files.isReadable(path)) {
            throw new ConfigException(key, "PEM file not readable: " + path);
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

    /**
     * A retention age: "" or {@code 0} for never, a Go-style duration, or whole days first, such as
     * {@code 30d} or {@code 1d12h}.
     */
    static Duration parseAge(String key, String raw) {
        String s = raw.trim();
        if (s.isEmpty()) {
            return Duration.ZERO;
        }
        Matcher days = Pattern.compile("(\\d{1,5})d(.*)").matcher(s);
        if (!days.matches()) {
            return parseDuration(key, s);
        }
        Duration rest = days.group(2).isEmpty() ? Duration.ZERO : parseAgeRest(key, raw, days.group(2));
        return Duration.ofDays(Long.parseLong(days.group(1))).plus(rest);
    }

    private static Duration parseAgeRest(String key, String raw, String rest) {
        try {
            return parseDuration(key, rest);
        } catch (ConfigException e) {
            throw new ConfigException(key, "invalid age '" + raw + "' (use e.g. 30d, 12h, 1d12h, or 0 for never)");
        }
    }

    /**
     * A size in bytes: "" or {@code 0} for none, a number of bytes, or a number with a unit: B, KB, MB,
     * GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. {@code 50GiB}.
     */
    static long parseSize(String key, String raw) {
        String s = raw.trim();
        if (s.isEmpty()) {
            return 0;
        }
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new ConfigException(key, "invalid size '" + raw + "' (use e.g. 500MiB, 50GiB, 2TB, or 0 for no limit)");
        }
        String unit = m.group(2) == null ? "B" : m.group(2);
        int power = "BKMGT".indexOf(unit.charAt(0));
        BigDecimal base = BigDecimal.valueOf(unit.contains("i") ? 1024 : 1000);
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(base.pow(power));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ConfigException(key, "size '" + raw + "' is too large");
        }
        return bytes.longValue();
    }

    /** The registry host an upstream stands for, canonical ({@code index.docker.io} is {@code docker.io}). */
    static String parseUpstreamName(String key, String raw) {
        String value = raw.trim();
        if (value.isEmpty()) {
            throw new ConfigException(key, "is required: the registry host this upstream stands for, as image "
                    + "names spell it (e.g. ghcr.io, quay.io, registry.example:5000)");
        }
        try {
            return io.mirrorball.oci.RegistryHost.parse(value).name();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "'" + value + "' is not a registry host (use e.g. ghcr.io or "
                    + "registry.example:5000, without scheme or path)");
        }
    }
}
