package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodes;
import io.mirrorball.store.RegistryStore;
import java.io.IOException;
import java.time.Clock;

/**
 * The gateway's store opened without a gateway, as {@code serve} opens it, for the commands that
 * work on it directly. Closing it closes the store, then the node (which releases the embedded
 * node's {@code repo.lock}).
 */
record LocalStore(IpfsNode node, RegistryStore store) implements AutoCloseable {
    static LocalStore open(MirrorballConfig config) throws IOException {
        IpfsNode node = IpfsNodes.open(config.storage().ipfs());
        try {
            RegistryStore store = RegistryStore.open(node, config.storage().ipfs().mfsRoot(),
                    config.storage().uploads().path(), config.storage().uploads().expireAfter(), Clock.systemUTC(),
                    config.storage().ipfs().maxCloneWaits());
            return new LocalStore(node, store);
        } catch (IOException | RuntimeException e) {
            try {
                node.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Why the store could not be opened, for one line on stderr: a store that a running gateway holds
     * (the embedded node's {@code repo.lock}) says so and what to do instead.
     */
    static String describe(IOException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("repo.lock is held")) {
            return "the store is in use by a running gateway: stop it, or give that gateway's URL with --to";
        }
        return message.isEmpty() ? "I/O error" : message;
    }

    @Override
    public void close() throws IOException {
        try {
            store.close();
        } finally {
            node.close();
        }
    }
}
