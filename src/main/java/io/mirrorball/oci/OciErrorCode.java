package io.mirrorball.oci;

/**
 * The error codes of the OCI distribution spec, each with the HTTP status it is sent with.
 * A few constants share a wire code but differ in status (a manifest over the size cap is
 * {@code MANIFEST_INVALID} with 413), which is why the wire code is a field.
 */
public enum OciErrorCode {
    BLOB_UNKNOWN("BLOB_UNKNOWN", 404, "blob unknown to registry"),
    BLOB_UPLOAD_INVALID("BLOB_UPLOAD_INVALID", 400, "blob upload invalid"),
    BLOB_UPLOAD_UNKNOWN("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"),
    /** A chunk that does not continue the upload where it stands. */
    BLOB_UPLOAD_OUT_OF_ORDER("BLOB_UPLOAD_INVALID", 416, "chunk out of order"),
    RANGE_NOT_SATISFIABLE("RANGE_INVALID", 416, "requested range not satisfiable"),
    DIGEST_INVALID("DIGEST_INVALID", 400, "provided digest did not match uploaded content"),
    MANIFEST_BLOB_UNKNOWN("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"),
    MANIFEST_INVALID("MANIFEST_INVALID", 400, "manifest invalid"),
    MANIFEST_TOO_LARGE("MANIFEST_INVALID", 413, "manifest too large"),
    MANIFEST_UNKNOWN("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
    NAME_INVALID("NAME_INVALID", 400, "invalid repository name"),
    NAME_UNKNOWN("NAME_UNKNOWN", 404, "repository name not known to registry"),
    SIZE_INVALID("SIZE_INVALID", 400, "provided length did not match content length"),
    PAGINATION_NUMBER_INVALID("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"),
    UNAUTHORIZED("UNAUTHORIZED", 401, "authentication required"),
    DENIED("DENIED", 403, "requested access to the resource is denied"),
    UNSUPPORTED("UNSUPPORTED", 405, "the operation is unsupported"),
    METHOD_UNKNOWN("UNSUPPORTED", 405, "method not allowed for this route"),
    NOT_FOUND("NOT_FOUND", 404, "no such route"),
    TOOMANYREQUESTS("TOOMANYREQUESTS", 429, "too many requests"),
    BAD_GATEWAY("UNAVAILABLE", 502, "upstream or storage failed"),
    UNAVAILABLE("UNAVAILABLE", 503, "service unavailable"),
    GATEWAY_TIMEOUT("UNAVAILABLE", 504, "upstream or storage timed out"),
    UNKNOWN("UNKNOWN", 500, "unknown error");

    private final String code;
    private final int status;
    private final String message;

    OciErrorCode(String code, int status, String message) {
        this.code = code;
        this.status = status;
        this.message = message;
    }

    /** The code as written in the error JSON. */
    public String code() {
        return code;
    }

    public int status() {
        return status;
    }

    public String message() {
        return message;
    }
}
