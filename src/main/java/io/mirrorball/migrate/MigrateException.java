package io.mirrorball.migrate;

/**
 * One image (or a whole source) cannot be copied, for a reason of kind {@link #kind()}. The message
 * is for the operator: it names the image or file, never a stack trace, a secret, a class name or an
 * internal path.
 */
public final class MigrateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureKind kind;

    public MigrateException(FailureKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public MigrateException(FailureKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public FailureKind kind() {
        return kind;
    }
}
