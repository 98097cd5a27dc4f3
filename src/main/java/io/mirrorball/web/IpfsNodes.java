package io.mirrorball.web;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.EmbeddedNode;
import io.mirrorball.ipfs.IpfsNode;
import java.io.IOException;

/** Opens the IPFS node that storage.ipfs.node names. (Lead: Kubo RPC pending KuboRpcNode.) */
final class IpfsNodes {
    private IpfsNodes() {
    }

    static IpfsNode open(MirrorballConfig.Ipfs config) throws IOException {
        if (config.isEmbedded()) {
            return EmbeddedNode.open(config.embedded().path());
        }
        throw new IOException("no IPFS node implementation yet for " + config.node());
    }
}
