package io.mirrorball.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates the {@code auth} section: htpasswd or token authentication (not both), groups, admins and
 * the access rules, each refused with the dotted key of what is wrong ({@code auth.access[2].push}).
 */
final class AuthSection {
    /** The principal of {@code pull} that stands for clients without credentials. */
    static final String ANONYMOUS = "anonymous";
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private AuthSection() {
    }

    static MirrorballConfig.Auth build(RawConfig.Auth raw, Path workDir) {
        Path htpasswd = ConfigValues.parseHtpasswd("auth.htpasswd.path", raw.htpasswd().path(), workDir);
        MirrorballConfig.Token token = token(raw.token(), workDir);
        if (htpasswd != null && token != null) {
            throw new ConfigException("auth.token.realm", "auth.htpasswd.path and auth.token are both set; "
                    + "choose one way of authentication");
        }
        boolean anonymousPull = ConfigValues.parseBoolean("auth.anonymous-pull", raw.anonymousPull());
        List<MirrorballConfig.Group> groups = groups(raw.groups());
        Set<String> groupNames = new HashSet<>();
        groups.forEach(g -> groupNames.add(g.name()));
        List<String> admins = principals("auth.admins", raw.admins(), groupNames, false);
        List<MirrorballConfig.AccessRule> access = rules(raw.access(), groupNames);
        boolean enabled = htpasswd != null || token != null;
        if (!enabled && !admins.isEmpty()) {
            throw new ConfigException("auth.admins", "needs authentication: set auth.htpasswd.path or auth.token");
        }
        if (!enabled && !access.isEmpty()) {
            throw new ConfigException(ConfigTree.AUTH_ACCESS, "access rules need authentication: set "
                    + "auth.htpasswd.path or auth.token");
        }
        return new MirrorballConfig.Auth(htpasswd, token, anonymousPull, admins, groups, access);
    }

    /** Null when no key of {@code auth.token} is set; every key is required once one is. */
    private static MirrorballConfig.Token token(RawConfig.Token raw, Path workDir) {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        values.put("auth.token.realm", raw.realm().trim());
        values.put("auth.token.service", raw.service().trim());
        values.put("auth.token.issuer", raw.issuer().trim());
        values.put("auth.token.rootcertbundle", raw.rootcertbundle().trim());
        if (values.values().stream().allMatch(String::isEmpty)) {
            return null;
        }
        values.forEach((key, value) -> {
            if (value.isEmpty()) {
                throw new ConfigException(key, "is required with token authentication (auth.token needs realm, "
                        + "service, issuer and rootcertbundle)");
            }
        });
        URI realm;
        try {
            realm = new URI(values.get("auth.token.realm"));
        } catch (URISyntaxException e) {
            throw new ConfigException("auth.token.realm", "not a URL: '" + raw.realm() + "'");
        }
        if (realm.getHost() == null || !("https".equalsIgnoreCase(realm.getScheme())
                || "http".equalsIgnoreCase(realm.getScheme()))) {
            throw new ConfigException("auth.token.realm", "must be the http(s) URL of the token service, e.g. "
                    + "https://auth.example.com/token, not '" + raw.realm() + "'");
        }
        Path bundle = ConfigValues.parsePath("auth.token.rootcertbundle", values.get("auth.token.rootcertbundle"),
                workDir);
        checkBundle(bundle);
        return new MirrorballConfig.Token(realm, values.get("auth.token.service"), values.get("auth.token.issuer"),
                bundle);
    }

    private static void checkBundle(Path bundle) {
        String key = "auth.token.rootcertbundle";
        if (!Files.isRegularFile(bundle)) {
            throw new ConfigException(key, "certificate bundle not found: " + bundle);
        }
        try (InputStream in = Files.newInputStream(bundle)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new ConfigException(key, "no certificate in " + bundle + " (a PEM file of certificates)");
            }
        } catch (CertificateException e) {
            throw new ConfigException(key, "cannot read the certificates of " + bundle + " (a PEM file of "
                    + "certificates): " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(key, "cannot read " + bundle + ": " + e);
        }
    }

    private static List<MirrorballConfig.Group> groups(List<RawConfig.Group> raw) {
        List<MirrorballConfig.Group> groups = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int n = 0; n < raw.size(); n++) {
            String prefix = ConfigTree.AUTH_GROUPS + "[" + n + "]";
            String name = raw.get(n).name().trim();
            if (name.startsWith("@")) {
                name = name.substring(1);
            }
            if (!GROUP_NAME.matcher(name).matches()) {
                throw new ConfigException(prefix + ".name", name.isEmpty() ? "is required"
                        : "invalid group name '" + name + "' (letters, digits, '.', '_' and '-')");
            }
            if (!seen.add(name)) {
                throw new ConfigException(prefix + ".name", "group " + name + " is defined twice");
            }
            List<String> members = split(prefix + ".members", raw.get(n).members());
            for (String member : members) {
                if (member.startsWith("@") || member.equals(ANONYMOUS)) {
                    throw new ConfigException(prefix + ".members", "members are user names, not '" + member + "'");
                }
            }
            groups.add(new MirrorballConfig.Group(name, members));
        }
        return groups;
    }

    private static List<MirrorballConfig.AccessRule> rules(List<RawConfig.Access> raw, Set<String> groups) {
        List<MirrorballConfig.AccessRule> rules = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (int n = 0; n < raw.size(); n++) {
            String prefix = ConfigTree.AUTH_ACCESS + "[" + n + "]";
            RawConfig.Access entry = raw.get(n);
            String repositoryPrefix = entry.prefix().trim();
            String previous = seen.putIfAbsent(repositoryPrefix, prefix);
            if (previous != null) {
                throw new ConfigException(prefix + ".prefix", "prefix '" + repositoryPrefix + "' is already the "
                        + "prefix of " + previous + "; one rule per prefix");
            }
            rules.add(new MirrorballConfig.AccessRule(repositoryPrefix,
                    principals(prefix + ".pull", entry.pull(), groups, true),
                    principals(prefix + ".push", entry.push(), groups, false),
                    principals(prefix + ".delete", entry.delete(), groups, false)));
        }
        return rules;
    }

    /** User names and {@code @group}s (each group defined), and {@code anonymous} where allowed. */
    private static List<String> principals(String key, String raw, Set<String> groups, boolean anonymousAllowed) {
        List<String> principals = split(key, raw);
        for (String principal : principals) {
            if (principal.equals(ANONYMOUS) && !anonymousAllowed) {
                throw new ConfigException(key, "anonymous may only pull (list it in pull)");
            }
            if (principal.startsWith("@") && !groups.contains(principal.substring(1))) {
                throw new ConfigException(key, "unknown group " + principal + " (define it in auth.groups)");
            }
        }
        return principals;
    }

    private static List<String> split(String key, String raw) {
        String value = raw.trim();
        if (value.isEmpty()) {
            return List.of();
        }
        List<String> items = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String item = part.trim();
            if (item.isEmpty()) {
                throw new ConfigException(key, "empty entry in the list '" + raw + "'");
            }
            if (item.indexOf(':') >= 0 || item.chars().anyMatch(Character::isWhitespace)) {
                throw new ConfigException(key, "invalid name '" + item + "'");
            }
            items.add(item);
        }
        return List.copyOf(items);
    }
}
