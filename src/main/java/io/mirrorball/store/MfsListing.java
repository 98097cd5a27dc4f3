package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.util.Collection;
import java.util.List;

/** Reading MFS directories of the registry layout, where a missing directory is an empty one. */
final class MfsListing {
    private MfsListing() {
    }

    /** The entries of {@code dir}; none when it does not exist. */
    static List<IpfsNode.FileEntry> entries(IpfsNode node, String dir) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return List.of();
        }
    }

    /** {@code <dir>/<algorithm>/<hex>}: adds the digests named by the entries to {@code into}. */
    static void digestsUnder(IpfsNode node, String dir, Collection<Digest> into) throws IOException {
        for (IpfsNode.FileEntry algorithm : entries(node, dir)) {
            if (!algorithm.directory()) {
                continue;
            }
            for (IpfsNode.FileEntry hex : entries(node, dir + "/" + algorithm.name())) {
                String text = algorithm.name() + ":" + hex.name();
                if (Digest.isDigest(text)) {
                    into.add(Digest.parse(text));
                }
            }
        }
    }
}
