package io.mirrorball.migrate;

/**
 * One image (or a whole source) cannot be copied, for a reason of kind {@link #kind()}. The message
 * is for the operator: it names the image or file, never a stack trace, a secret, a class name or an
 * internal path. A 429 is the subclass {@link RateLimitedException}, which carries the wait.
 */
public class MigrateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureKind kind;
    /** How long the other side asked us to wait before trying again (a 429's or 503's Retry-After). */
    private java.time.Duration retryAfter;  // set once, by the thread that creates the exception

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

    /** Notes the wait the other side asked for; returns this exception. */
    public MigrateException withRetryAfter(java.time.Duration wait) {
        this.retryAfter = wait;
        return this;
    }

    public java.util.Optional<java.time.Duration> retryAfter() {
        return java.util.Optional.ofNullable(retryAfter);
    }
}
