package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNodes;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.upstream.retention.CacheRetention;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;

/**
 * The gateway's store opened without a gateway, as {@code serve} opens it, for the commands that
 * work on it directly ({@link StoreCommands#run} reports why it cannot be opened). Closing it closes the store, then the node (which releases the embedded
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
     * How old an unreferenced block must be before a gc of this node may remove it: offline, the embedded
     * node is this process's alone and needs no grace; Kubo may be shared with a running gateway.
     */
    Duration gcGrace() {
        return node instanceof EmbeddedNode ? Duration.ZERO : CacheRetention.GC_GRACE;
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
