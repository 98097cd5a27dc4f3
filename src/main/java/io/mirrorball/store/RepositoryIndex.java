package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Which repositories exist locally, and the catalog. */
public final class RepositoryIndex {
    private final IpfsNode node;
    private final MfsPaths paths;

    RepositoryIndex(IpfsNode node, MfsPaths paths) {
        this.node = node;
        this.paths = paths;
    }

    /** True when something was pushed to this repository here. */
    public boolean exists(RepositoryName name) throws IOException {
        return node.filesStat(paths.repository(name)).isPresent();
    }

    /**
     * Every repository pushed here, sorted. Directories holding {@code _manifests} or {@code _layers}
     * are repositories; the content-addressed copies ({@code <cid>}, {@code <digest hex>}) are left
     * out, since each image would otherwise be listed three times.
     */
    public List<String> catalog() throws IOException {
        List<String> names = new ArrayList<>();
        walk(paths.repositories(), "", names, 0);
        names.sort(null);
        return names;
    }

    private void walk(String dir, String prefix, List<String> names, int depth) throws IOException {
        if (depth > 32) {
            return;
        }
        List<IpfsNode.FileEntry> entries;
        try {
            entries = node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return;
        }
        boolean isRepository = false;
        for (IpfsNode.FileEntry e : entries) {
            if (!e.directory()) {
                continue;
            }
            if (e.name().equals("_manifests") || e.name().equals("_layers")) {
                isRepository = true;
            } else if (!e.name().startsWith("_")) {
                walk(dir + "/" + e.name(), prefix.isEmpty() ? e.name() : prefix + "/" + e.name(), names, depth + 1);
            }
        }
        if (isRepository && RepositoryName.isValid(prefix)
                && ContentAddress.of(RepositoryName.parse(prefix)).isEmpty()) {
            names.add(prefix);
        }
    }
}
