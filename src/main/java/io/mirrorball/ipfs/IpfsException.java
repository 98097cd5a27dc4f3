package io.mirrorball.ipfs;

import java.io.IOException;

/** An IPFS node failed or refused an operation. The web layer maps it to 502, 503 or 504. */
public class IpfsException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure: it decides the HTTP status the client sees. */
    public enum Kind {
        /** The node answered with an error (502). */
        FAILED,
        /** The node cannot be reached (503). */
        UNAVAILABLE,
        /** The node did not answer in time (504). */
        TIMEOUT,
        /** The content does not match its digest or CID (502, and the response is aborted). */
        CORRUPT
    }

    private final Kind kind;

    public IpfsException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public IpfsException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
