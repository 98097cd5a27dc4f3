package io.mirrorball.web.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.testing.MutableClock;
import io.mirrorball.testing.TestTokenIssuer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class TokenVerifierTest {
    @TempDir
    static Path tmp;
    private static TestTokenIssuer issuer;

    private final AtomicLong nanos = new AtomicLong();

    @BeforeAll
    static void startIssuer() throws Exception {
        issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "alice", "pw");
    }

    @AfterAll
    static void stopIssuer() {
        issuer.close();
    }

    private TokenVerifier verifier(Clock clock) throws Exception {
        return TokenVerifier.of(new MirrorballConfig.Token(issuer.realm(), TestTokenIssuer.SERVICE,
                TestTokenIssuer.ISSUER, issuer.rootCertBundle()), clock, nanos::get);
    }

    @Test
    void verify_x5cToken_grantsItsAccess() throws Exception {
        TokenGrant grant = verifier(Clock.systemUTC()).verify(issuer.token("alice", "repository:team-a/app:pull,push",
                "registry:catalog:*"));
        assertEquals("alice", grant.subject());
        assertTrue(grant.allows(new Scope("repository", "team-a/app", Set.of("pull", "push"))));
        assertFalse(grant.allows(new Scope("repository", "team-a/app", Set.of("delete"))));
        assertFalse(grant.allows(new Scope("repository", "team-a/other", Set.of("pull"))));
        assertTrue(grant.allows(Scope.CATALOG));
    }

    @Test
    void verify_kidThumbprintToken_isTrusted() throws Exception {
        TokenGrant grant = verifier(Clock.systemUTC()).verify(issuer.signWithKid(issuer.claims("bob",
                "repository:app:*")));
        assertEquals("bob", grant.subject());
        assertTrue(grant.allows(new Scope("repository", "app", Set.of("pull", "push", "delete"))));
    }

    @Test
    void verify_badTokens_areInvalid() throws Exception {
        TokenVerifier verifier = verifier(Clock.systemUTC());
        Map<String, Object> wrongAudience = issuer.claims("alice", "repository:app:pull");
        wrongAudience.put("aud", "another-registry");
        Map<String, Object> wrongIssuer = issuer.claims("alice", "repository:app:pull");
        wrongIssuer.put("iss", "someone-else");
        Map<String, Object> expired = issuer.claims("alice", "repository:app:pull");
        expired.put("exp", Instant.now().minusSeconds(600).getEpochSecond());
        Map<String, Object> notYet = issuer.claims("alice", "repository:app:pull");
        notYet.put("nbf", Instant.now().plusSeconds(600).getEpochSecond());
        Map<String, Object> noExpiry = issuer.claims("alice", "repository:app:pull");
        noExpiry.remove("exp");
        Map<String, Object> good = issuer.claims("alice", "repository:app:pull");
        for (String token : List.of(issuer.sign(wrongAudience), issuer.sign(wrongIssuer), issuer.sign(expired),
                issuer.sign(notYet), issuer.sign(noExpiry), issuer.signForged(good), issuer.signWithUnknownKey(good),
                issuer.unsigned(good), "not-a-jwt", issuer.sign(good) + "x")) {
            assertThrows(InvalidTokenException.class, () -> verifier.verify(token), token);
        }
    }

    @Test
    void verify_withinLeeway_isValid() throws Exception {
        Map<String, Object> claims = issuer.claims("alice", "repository:app:pull");
        claims.put("exp", Instant.now().minusSeconds(30).getEpochSecond());
        assertEquals("alice", verifier(Clock.systemUTC()).verify(issuer.sign(claims)).subject());
    }

    @Test
    void verify_cachedTokenPastItsExpiry_isInvalid() throws Exception {
        MutableClock clock = MutableClock.at(Instant.now());
        TokenVerifier verifier = verifier(clock);
        String token = issuer.token("alice", "repository:app:pull");
        assertEquals("alice", verifier.verify(token).subject());
        clock.advance(Duration.ofSeconds(300).plus(TokenVerifier.LEEWAY).plusSeconds(1));
        assertThrows(InvalidTokenException.class, () -> verifier.verify(token));
    }
}
