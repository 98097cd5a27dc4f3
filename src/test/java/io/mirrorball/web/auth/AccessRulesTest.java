package io.mirrorball.web.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.MirrorballConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class AccessRulesTest {
    private static final MirrorballConfig.Auth AUTH = new MirrorballConfig.Auth(Path.of("/htpasswd"), null, false,
            List.of("root", "@ops"),
            List.of(new MirrorballConfig.Group("devs", List.of("bob", "carol")),
                    new MirrorballConfig.Group("ops", List.of("olga"))),
            List.of(new MirrorballConfig.AccessRule("team-a/", List.of("alice", "@devs"), List.of("alice"),
                            List.of("root")),
                    new MirrorballConfig.AccessRule("team-a/secret/", List.of("alice"), List.of(), List.of()),
                    new MirrorballConfig.AccessRule("public/", List.of("anonymous"), List.of("@devs"), List.of())));

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            alice | team-a/app        | pull        | true
            alice | team-a/app        | pull,push   | true
            alice | team-a/app        | delete      | false
            bob   | team-a/app        | pull        | true
            bob   | team-a/app        | pull,push   | false
            bob   | team-a/secret/db  | pull        | false
            alice | team-a/secret/db  | pull        | true
            root  | team-a/app        | delete      | true
            -     | team-a/app        | pull        | false
            -     | public/base       | pull        | true
            -     | public/base       | pull,push   | false
            carol | public/base       | pull,push   | true
            alice | public/base       | pull        | false
            alice | team-b/app        | pull,push   | true
            alice | team-b/app        | delete      | true
            -     | team-b/app        | pull        | false
            """)
    void allows_longestPrefixDecides(String user, String repository, String actions, boolean allowed) {
        AccessRules rules = AccessRules.of(AUTH);
        assertEquals(allowed, rules.allows("-".equals(user) ? null : user,
                new Scope(Scope.REPOSITORY, repository, Set.copyOf(Arrays.asList(actions.split(","))))));
    }

    @Test
    void allows_noRuleAndAnonymousPull_letsAnonymousPullOnly() {
        AccessRules rules = AccessRules.of(new MirrorballConfig.Auth(Path.of("/htpasswd"), true));
        assertTrue(rules.allows(null, Scope.repository("x/app", Scope.PULL)));
        assertFalse(rules.allows(null, Scope.repository("x/app", Scope.PULL, Scope.PUSH)));
        assertTrue(rules.allows("anyone", Scope.repository("x/app", Scope.DELETE)));
        assertFalse(rules.isAdmin("anyone"), "no admins listed: nobody is one");
        assertFalse(rules.isAdmin(null));
    }

    @Test
    void allows_emptyPrefix_matchesEveryName() {
        AccessRules rules = AccessRules.of(new MirrorballConfig.Auth(Path.of("/htpasswd"), null, true, List.of(),
                List.of(), List.of(new MirrorballConfig.AccessRule("", List.of("alice"), List.of(), List.of()))));
        assertTrue(rules.allows("alice", Scope.repository("anything", Scope.PULL)));
        assertFalse(rules.allows("bob", Scope.repository("anything", Scope.PULL)));
        assertFalse(rules.allows(null, Scope.repository("anything", Scope.PULL)));
    }

    @Test
    void isAdmin_listedUsersAndGroupMembers() {
        AccessRules rules = AccessRules.of(AUTH);
        assertTrue(rules.isAdmin("root"));
        assertTrue(rules.isAdmin("olga"));
        assertFalse(rules.isAdmin("alice"));
        assertTrue(rules.anyAnonymousPull());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            GET    | /v2/                                   | -                   | BASE       | -
            GET    | /v2/_catalog                           | -                   | CATALOG    | registry:catalog:*
            GET    | /v2/team-a/app/manifests/v1            | -                   | REPOSITORY | repository:team-a/app:pull
            HEAD   | /v2/team-a/app/blobs/sha256:ab         | -                   | REPOSITORY | repository:team-a/app:pull
            POST   | /v2/team-a/app/blobs/uploads/          | -                   | REPOSITORY | repository:team-a/app:pull,push
            PATCH  | /v2/team-a/app/blobs/uploads/u1        | -                   | REPOSITORY | repository:team-a/app:pull,push
            PUT    | /v2/team-a/app/manifests/v1            | -                   | REPOSITORY | repository:team-a/app:pull,push
            DELETE | /v2/team-a/app/manifests/sha256:ab     | -                   | REPOSITORY | repository:team-a/app:delete
            GET    | /v2/a/tags/list                        | -                   | REPOSITORY | repository:a:pull
            GET    | /v2/a/referrers/sha256:ab              | -                   | REPOSITORY | repository:a:pull
            POST   | /v2/a/blobs/uploads/                   | mount=sha256:ab&from=b/c | REPOSITORY | repository:a:pull,push repository:b/c:pull
            POST   | /admin/gc                              | -                   | ADMIN      | -
            GET    | /ipfs/bafy                             | -                   | OTHER      | -
            """)
    void requiredAccess_asDistributionDerivesIt(String method, String path, String query, RequiredAccess.Kind kind,
                                                String scopes) {
        RequiredAccess need = RequiredAccess.of(method, path, query);
        assertEquals(kind, need.kind());
        assertEquals(scopes == null ? "" : scopes, String.join(" ", need.scopes().stream().map(Scope::toString)
                .toList()));
    }

    @Test
    void bearerChallenge_asDistributionWritesIt() {
        BearerChallenge challenge = new BearerChallenge("https://auth.example/token", "registry.example");
        assertEquals("Bearer realm=\"https://auth.example/token\",service=\"registry.example\"",
                challenge.header(List.of(), BearerChallenge.Error.NONE));
        assertEquals("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                        + "scope=\"repository:app:pull,push\",error=\"insufficient_scope\"",
                challenge.header(List.of(Scope.repository("app", "push", "pull")),
                        BearerChallenge.Error.INSUFFICIENT_SCOPE));
    }
}
