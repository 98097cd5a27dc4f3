package io.mirrorball.upstream;

import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.Locale;

/**
 * The WWW-Authenticate header of an upstream registry: malformed parts are skipped, never thrown.
 * Input: the header value (seeds in AuthChallengeFuzzTestInputs/parse_anyHeader).
 */
final class AuthChallengeFuzzTest {

    @FuzzTest
    void parse_anyHeader(byte[] input) {
        String header = text(input);
        List<AuthChallenge> challenges = AuthChallenge.parse(header);
        for (AuthChallenge challenge : challenges) {
            assertEquals(challenge.scheme().toLowerCase(Locale.ROOT), challenge.scheme());
            assertFalse(challenge.scheme().contains(" ") || challenge.scheme().contains(","), challenge.scheme());
            for (String name : challenge.params().keySet()) {
                assertEquals(name.toLowerCase(Locale.ROOT), name);
            }
        }
        assertEquals(challenges, AuthChallenge.parse(header));
    }
}
