package io.mirrorball.web.auth;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code WWW-Authenticate} value of token authentication, as distribution writes it:
 * {@code Bearer realm="...",service="...",scope="repository:app:pull,push",error="insufficient_scope"}.
 */
public final class BearerChallenge {
    /** Why a token was refused; none when no token was sent. */
    public enum Error {
        NONE(null), INVALID_TOKEN("invalid_token"), INSUFFICIENT_SCOPE("insufficient_scope");

        private final String code;

        Error(String code) {
            this.code = code;
        }
    }

    private final String realm;
    private final String service;

    public BearerChallenge(String realm, String service) {
        this.realm = realm;
        this.service = service;
    }

    /** The header value for the scopes asked (none for the version check). */
    public String header(List<Scope> scopes, Error error) {
        StringBuilder value = new StringBuilder("Bearer realm=").append(quote(realm)).append(",service=")
                .append(quote(service));
        if (!scopes.isEmpty()) {
            value.append(",scope=").append(quote(scopes.stream().map(Scope::toString)
                    .collect(Collectors.joining(" "))));
        }
        if (error.code != null) {
            value.append(",error=").append(quote(error.code));
        }
        return value.toString();
    }

    private static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
