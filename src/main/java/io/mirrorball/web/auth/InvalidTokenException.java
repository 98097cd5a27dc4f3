package io.mirrorball.web.auth;

/** A bearer token that is malformed, not signed by a trusted key, or not valid for this registry now. */
public final class InvalidTokenException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidTokenException(String reason) {
        super(reason);
    }

    InvalidTokenException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
