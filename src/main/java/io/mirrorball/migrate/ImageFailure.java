package io.mirrorball.migrate;

/** One image that could not be copied, and why (a message for the operator). */
public record ImageFailure(String source, FailureKind kind, String message) {
}
