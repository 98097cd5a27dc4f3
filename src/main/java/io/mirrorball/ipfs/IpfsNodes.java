package io.mirrorball.ipfs;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.kubo.KuboRpcNode;
import java.io.IOException;
import java.time.Duration;

/**
 * Opens the IPFS node that storage.ipfs.node names: the embedded node, or Kubo's RPC API. The
 * gateway and the commands that work on the store directly ({@code migrate --store},
 * {@code export --store}, {@code import}) open it the same way.
 */
public final class IpfsNodes {
    /** A node that does not accept a connection in this time is down: 503 quickly, not a hang. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    /** Longest silence on an open RPC (a cat of a block that must come from the network). */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(120);

    private IpfsNodes() {
    }

    public static IpfsNode open(MirrorballConfig.Ipfs config) throws IOException {
        if (config.isEmbedded()) {
            return EmbeddedNode.open(config.embedded().path(), config.embedded().gateways(),
                    config.embedded().gatewayTimeout());
        }
        return KuboRpcNode.connect(config.node(), config.nodeAuth(), CONNECT_TIMEOUT, READ_TIMEOUT);
    }
}
