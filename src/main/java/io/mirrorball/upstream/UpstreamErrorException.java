package io.mirrorball.upstream;

/**
 * An error answer of the upstream registry, passed to the client unchanged: its status, its content
 * type and its body (read whole under a cap). The web layer writes it before the response is committed.
 */
public final class UpstreamErrorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String contentType;
    private final byte[] body;

    UpstreamErrorException(String action, int status, String contentType, byte[] body) {
        super(action + ": upstream answered " + status);
        this.status = status;
        this.contentType = contentType;
        this.body = body.clone();
    }

    public int status() {
        return status;
    }

    /** The upstream's Content-Type, or null. */
    public String contentType() {
        return contentType;
    }

    public byte[] body() {
        return body.clone();
    }

    /** A 5xx: the upstream is failing, so a cached copy may be served instead (stale-if-error). */
    boolean isServerError() {
        return status >= 500;
    }

    boolean mentions(String code) {
        return new String(body, java.nio.charset.StandardCharsets.UTF_8).contains("\"" + code + "\"");
    }
}
