package io.mirrorball.oci;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one exception that becomes an OCI error response. It is thrown anywhere and caught in
 * exactly one place, the errors filter.
 */
public final class OciException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final OciErrorCode code;
    private final String detail;
    private final Map<String, String> headers;

    public OciException(OciErrorCode code, String detail) {
        this(code, detail, null);
    }

    public OciException(OciErrorCode code, String detail, Throwable cause) {
        super(code.code() + ": " + (detail == null ? code.message() : detail), cause);
        this.code = code;
        this.detail = detail;
        this.headers = new LinkedHashMap<>();
    }

    /** Adds a response header (Retry-After, Range, WWW-Authenticate...). */
    public OciException withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public OciErrorCode code() {
        return code;
    }

    /** Human readable detail; may be null. */
    public String detail() {
        return detail;
    }

    public Map<String, String> headers() {
        return Map.copyOf(headers);
    }
}
