package io.mirrorball.credentials;

import java.util.Objects;

/**
 * What a registry is told about who is asking. {@code toString} never shows a secret, so a
 * {@code Credentials} may be logged or put in a message.
 */
public sealed interface Credentials
        permits Credentials.Anonymous, Credentials.Basic, Credentials.IdentityToken, Credentials.RegistryToken {

    /** No credentials at all. */
    Credentials ANONYMOUS = new Anonymous();

    /** No credentials: requests go without an Authorization header. */
    record Anonymous() implements Credentials {
        @Override
        public String toString() {
            return "Anonymous";
        }
    }

    /** A user and password, sent as Basic or to a token service. */
    record Basic(String user, String password) implements Credentials {
        public Basic {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() {
            return "Basic[user=" + user + ", password=***]";
        }
    }

    /**
     * An OAuth2 refresh token (config {@code identitytoken}, or a helper's {@code Username} {@code <token>}),
     * exchanged at the token service with {@code grant_type=refresh_token}.
     */
    record IdentityToken(String token) implements Credentials {
        public IdentityToken {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public String toString() {
            return "IdentityToken[***]";
        }
    }

    /** A ready registry token (config {@code registrytoken}), sent as {@code Bearer}. */
    record RegistryToken(String token) implements Credentials {
        public RegistryToken {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public String toString() {
            return "RegistryToken[***]";
        }
    }
}
