package io.mirrorball.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.testing.TestTokenIssuer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class ConfigAuthTest {
    @TempDir
    static Path tmp;
    private static TestTokenIssuer issuer;
    private static Path htpasswd;

    @BeforeAll
    static void prepare() throws Exception {
        issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "alice", "pw");
        htpasswd = Files.writeString(tmp.resolve("htpasswd"), "");
    }

    @AfterAll
    static void stop() {
        issuer.close();
    }

    private static MirrorballConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = Files.writeString(tmp.resolve("c-" + System.nanoTime() + ".yml"), yaml
                .replace("HTPASSWD", htpasswd.toString()).replace("BUNDLE", issuer.rootCertBundle().toString()));
        return ConfigLoader.load(Optional.of(file), env);
    }

    @Test
    void load_tokenRulesGroupsAdmins_areRead() throws Exception {
        MirrorballConfig.Auth auth = load("""
                auth:
                  token: { realm: 'https://auth.example/token', service: reg, issuer: iss, rootcertbundle: BUNDLE }
                  anonymous-pull: false
                  admins: [root, '@ops']
                  groups:
                    - name: devs
                      members: [bob, carol]
                    - { name: ops, members: olga }
                  access:
                    - prefix: team-a/
                      pull: [alice, '@devs']
                      push: [alice]
                      delete: [root]
                    - { prefix: public/, pull: [anonymous] }
                """, Map.of()).auth();
        assertNull(auth.htpasswd());
        assertEquals(new MirrorballConfig.Token(URI.create("https://auth.example/token"), "reg", "iss",
                issuer.rootCertBundle()), auth.token());
        assertEquals(List.of("root", "@ops"), auth.admins());
        assertEquals(List.of(new MirrorballConfig.Group("devs", List.of("bob", "carol")),
                new MirrorballConfig.Group("ops", List.of("olga"))), auth.groups());
        assertEquals(List.of(new MirrorballConfig.AccessRule("team-a/", List.of("alice", "@devs"), List.of("alice"),
                        List.of("root")),
                new MirrorballConfig.AccessRule("public/", List.of("anonymous"), List.of(), List.of())), auth.access());
    }

    @Test
    void load_accessFromEnvironment_replacesOrSetsEntries() throws Exception {
        Map<String, String> env = new HashMap<>(issuer.gatewayEnv());
        env.put("MIRRORBALL_AUTH_GROUPS", "[{name: devs, members: [bob]}]");
        env.put("MIRRORBALL_AUTH_ACCESS_0_PREFIX", "team-a/");
        env.put("MIRRORBALL_AUTH_ACCESS_0_PULL", "alice,@devs");
        env.put("MIRRORBALL_AUTH_ADMINS", "root");
        MirrorballConfig.Auth auth = ConfigLoader.load(Optional.empty(), env).auth();
        assertEquals(List.of(new MirrorballConfig.AccessRule("team-a/", List.of("alice", "@devs"), List.of(),
                List.of())), auth.access());
        assertEquals(List.of(new MirrorballConfig.Group("devs", List.of("bob"))), auth.groups());
        assertEquals(List.of("root"), auth.admins());
        assertEquals(TestTokenIssuer.SERVICE, auth.token().service());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            auth: { htpasswd: { path: HTPASSWD }, access: [{prefix: a/}, {prefix: b/}, {prefix: c/, pul: [x]}] } | auth.access[2].pul: unknown configuration key (known keys of auth.access[2]: [delete, prefix, pull, push])
            auth: { htpasswd: { path: HTPASSWD }, access: { prefix: a/ } }                                     | auth.access: must be a list of access rules
            auth: { htpasswd: { path: HTPASSWD }, access: [team-a/] }                                           | auth.access[0]: must be a mapping with keys [delete, prefix, pull, push]
            auth: { htpasswd: { path: HTPASSWD }, access: [{prefix: a/, pull: ['@devs']}] }                      | auth.access[0].pull: unknown group @devs
            auth: { htpasswd: { path: HTPASSWD }, access: [{prefix: a/, push: [anonymous]}] }                    | auth.access[0].push: anonymous may only pull
            auth: { htpasswd: { path: HTPASSWD }, access: [{prefix: a/}, {prefix: a/}] }                         | auth.access[1].prefix: prefix 'a/' is already the prefix of auth.access[0]
            auth: { htpasswd: { path: HTPASSWD }, groups: [{name: devs, memebers: [a]}] }                        | auth.groups[0].memebers: unknown configuration key
            auth: { htpasswd: { path: HTPASSWD }, groups: [{members: [a]}] }                                     | auth.groups[0].name: is required
            auth: { htpasswd: { path: HTPASSWD }, admins: [anonymous] }                                          | auth.admins: anonymous may only pull
            auth: { access: [{prefix: a/, pull: [alice]}] }                                                     | auth.access: access rules need authentication
            auth: { admins: [root] }                                                                             | auth.admins: needs authentication
            auth: { htpasswd: { path: HTPASSWD }, token: { realm: 'https://a/t', service: s, issuer: i, rootcertbundle: BUNDLE } } | auth.token.realm: auth.htpasswd.path and auth.token are both set
            auth: { token: { realm: 'https://a/t', issuer: i, rootcertbundle: BUNDLE } }                         | auth.token.service: is required with token authentication
            auth: { token: { realm: 'ftp://a/t', service: s, issuer: i, rootcertbundle: BUNDLE } }               | auth.token.realm: must be the http(s) URL of the token service
            auth: { token: { realm: 'https://a/t', service: s, issuer: i, rootcertbundle: HTPASSWD } }           | auth.token.rootcertbundle: no certificate in
            auth: { token: { realm: 'https://a/t', service: s, issuer: i, rootcertbundle: /nonexistent.pem } }   | auth.token.rootcertbundle: certificate bundle not found
            """)
    void load_badAuth_isErrorNamingTheKey(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(yaml, Map.of()));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void load_unknownEntryVariable_isErrorNamingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(),
                Map.of("MIRRORBALL_AUTH_ACCESS_0_PULLS", "x")));
        assertTrue(e.getMessage().startsWith("MIRRORBALL_AUTH_ACCESS_0_PULLS: unknown key PULLS of a auth.access entry"),
                e.getMessage());
    }
}
