package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import io.mirrorball.oci.Digest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which repositories exist locally, and the catalog. Every request for a name that goes upstream
 * asks this first, so the answer is cached: a repository, once seen, stays (there is no repository
 * delete); an absent name is remembered for {@link #ABSENT_FOR}, unless this gateway pushes to it
 * (see {@link #written}). Another gateway sharing the MFS root is seen within that time.
 */
public final class RepositoryIndex {
    static final Duration ABSENT_FOR = Duration.ofSeconds(2);

    private final IpfsNode node;
    private final MfsPaths paths;
    private final Set<RepositoryName> present = ConcurrentHashMap.newKeySet();
    private final Cache<RepositoryName, Boolean> absent;

    RepositoryIndex(IpfsNode node, MfsPaths paths, Ticker ticker) {
        this.node = node;
        this.paths = paths;
        this.absent = Caffeine.newBuilder().expireAfterWrite(ABSENT_FOR).maximumSize(100_000).ticker(ticker).build();
    }

    /** True when something was pushed to this repository here. */
    public boolean exists(RepositoryName name) throws IOException {
        if (present.contains(name)) {
            return true;
        }
        if (absent.getIfPresent(name) != null) {
            return false;
        }
        boolean exists = node.filesStat(paths.repository(name)).isPresent();
        if (exists) {
            present.add(name);
        } else {
            absent.put(name, Boolean.TRUE);
        }
        return exists;
    }

    /** A write to this repository is starting or done here: it exists from now on. */
    public void written(RepositoryName name) {
        present.add(name);
        absent.invalidate(name);
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

    /**
     * The image directories named by a CID ({@code repositories/<cid>}: published here, or cloned),
     * sorted. The digest-named copies are left out: each holds the same image as a CID directory.
     */
    public List<RepositoryName> contentAddressed() throws IOException {
        List<RepositoryName> names = new ArrayList<>();
        for (IpfsNode.FileEntry e : list(paths.repositories())) {
            if (e.directory() && RepositoryName.isValid(e.name())) {
                RepositoryName name = RepositoryName.parse(e.name());
                ContentAddress.of(name).filter(a -> a.cid() != null).ifPresent(a -> names.add(name));
            }
        }
        names.sort(java.util.Comparator.comparing(RepositoryName::value));
        return names;
    }

    /**
     * Every digest that a local repository references: the {@code _layers} and
     * {@code _manifests/revisions} entries of every repository under {@code repositories/}, pushed
     * names and the published image directories ({@code <cid>}, {@code <digest hex>}) alike. Retention
     * never removes these: a blob that was pulled through and also pushed is pushed content.
     */
    public Set<Digest> referencedDigests() throws IOException {
        Set<Digest> referenced = new HashSet<>();
        collect(paths.repositories(), referenced, 0);
        return referenced;
    }

    private void collect(String dir, Set<Digest> referenced, int depth) throws IOException {
        if (depth > 32) {
            return;
        }
        for (IpfsNode.FileEntry e : list(dir)) {
            if (!e.directory()) {
                continue;
            }
            if (e.name().equals("_layers")) {
                MfsListing.digestsUnder(node, dir + "/_layers", referenced);
            } else if (e.name().equals("_manifests")) {
                MfsListing.digestsUnder(node, dir + "/_manifests/revisions", referenced);
            } else if (!e.name().startsWith("_")) {
                collect(dir + "/" + e.name(), referenced, depth + 1);
            }
        }
    }

    private List<IpfsNode.FileEntry> list(String dir) throws IOException {
        return MfsListing.entries(node, dir);
    }

    private static boolean isContentAddressed(String component) {
        return RepositoryName.isValid(component) && ContentAddress.of(RepositoryName.parse(component)).isPresent();
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
            } else if (depth == 1 && e.name().equals("blobs") && isContentAddressed(prefix)) {
                continue; // the blob links of a published image, thousands of them: never a repository
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
