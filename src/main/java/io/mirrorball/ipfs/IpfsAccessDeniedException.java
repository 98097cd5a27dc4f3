package io.mirrorball.ipfs;

/** The node's RPC API refused the request (HTTP 401 or 403: Kubo's API.Authorizations). */
public final class IpfsAccessDeniedException extends IpfsException {
    private static final long serialVersionUID = 1L;

    public IpfsAccessDeniedException(String message) {
        super(Kind.FAILED, message);
    }
}
