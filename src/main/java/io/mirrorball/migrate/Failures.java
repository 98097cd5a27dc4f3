package io.mirrorball.migrate;

import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedByInterruptException;

/**
 * Turns what a copy threw into a {@link MigrateException} whose message an operator can read: the
 * image and what happened, never a class name or a stack trace.
 */
final class Failures {
    private Failures() {
    }

    static MigrateException of(Throwable e, String what) {
        Throwable cause = BlobCopier.unwrap(e);
        if (cause instanceof MigrateException m) {
            return m;
        }
        if (cause instanceof OciException oci) {
            return new MigrateException(FailureKind.INVALID_SOURCE, what + ": " + oci.code() + ": " + oci.getMessage(),
                    cause);
        }
        if (cause instanceof ClosedByInterruptException || cause instanceof InterruptedIOException
                && !(cause instanceof SocketTimeoutException) && Thread.currentThread().isInterrupted()) {
            return new MigrateException(FailureKind.INTERRUPTED, what + ": interrupted", cause);
        }
        if (cause instanceof IOException) {
            return new MigrateException(FailureKind.UNREACHABLE, what + ": " + describe(cause), cause);
        }
        return new MigrateException(FailureKind.INVALID_SOURCE, what + ": " + describe(cause), cause);
    }

    /** A short phrase for an I/O failure, without class names. */
    static String describe(Throwable e) {
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof UnknownHostException) {
            return "unknown host " + e.getMessage();
        }
        if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
            return "timed out";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? "connection failed" : message;
    }
}
