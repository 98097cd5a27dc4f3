package io.mirrorball.ipfs;

/** An MFS path, CID or block that the node does not have. */
public final class IpfsNotFoundException extends IpfsException {
    private static final long serialVersionUID = 1L;

    public IpfsNotFoundException(String message) {
        super(Kind.FAILED, message);
    }
}
