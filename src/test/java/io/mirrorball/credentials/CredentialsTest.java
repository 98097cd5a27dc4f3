package io.mirrorball.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A {@link Credentials} may be logged: its text never holds a secret. */
final class CredentialsTest {
    @Test
    void toString_basicShowsUserNotPassword() {
        String text = new Credentials.Basic("alice", "s3cr3t-pw").toString();
        assertTrue(text.contains("alice"), text);
        assertFalse(text.contains("s3cr3t-pw"), text);
    }

    @Test
    void toString_tokensHideTheToken() {
        assertFalse(new Credentials.IdentityToken("refresh-abc").toString().contains("refresh-abc"));
        assertFalse(new Credentials.RegistryToken("bearer-xyz").toString().contains("bearer-xyz"));
    }

    @Test
    void equals_comparesValues() {
        assertEquals(new Credentials.Basic("a", "b"), new Credentials.Basic("a", "b"));
        assertEquals(new Credentials.Anonymous(), Credentials.ANONYMOUS);
    }
}
