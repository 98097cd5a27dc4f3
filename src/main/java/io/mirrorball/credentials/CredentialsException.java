package io.mirrorball.credentials;

/**
 * Credentials could not be looked up. The message names the file and key or the helper, never a
 * secret or the text a helper printed.
 */
public final class CredentialsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, which decides how a command reports it. */
    public enum Kind {
        /** A credentials file or option is invalid: a usage error (exit 2). */
        INVALID_FILE,
        /** A credential helper is missing, failed, hung or answered garbage: the registry is {@code DENIED}. */
        HELPER_FAILED
    }

    private final Kind kind;

    CredentialsException(Kind kind, String message) {
        this(kind, message, null);
    }

    CredentialsException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
