package io.mirrorball.migrate;

/** Why one image could not be copied; each names a cause an operator can act on. */
public enum FailureKind {
    /** The source has no such image, repository or tag. */
    NOT_FOUND,
    /** The source or destination refused the credentials (or there were none). */
    DENIED,
    /** The source could not be reached, after the retries. */
    UNREACHABLE,
    /** The source kept answering 429 for longer than {@code --max-retry-wait}. */
    RATE_LIMITED,
    /** The source gave something that is not a valid image: bad JSON, a digest or size mismatch, a corrupt layout or archive. */
    INVALID_SOURCE,
    /** A valid image mirrorball does not take (Docker schema 1, a manifest over the size cap). */
    UNSUPPORTED,
    /** The destination refused the image; the message carries its OCI code and message. */
    DESTINATION_REFUSED,
    /** The destination took the image but did not publish it to IPFS (is it a mirrorball?). */
    NO_CID,
    /** The run was interrupted before the image was finished. */
    INTERRUPTED
}
