package io.mirrorball.ipfs;

/**
 * The node's store is held by another process (the embedded node's {@code repo.lock}): a running
 * gateway, or another command. Commands that open the store report it as "in use" (exit 3).
 */
public final class IpfsNodeInUseException extends IpfsException {
    public IpfsNodeInUseException(String message) {
        super(Kind.UNAVAILABLE, message);
    }
}
