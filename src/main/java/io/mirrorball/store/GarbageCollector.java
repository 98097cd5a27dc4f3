package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.embedded.GcReport;
import io.mirrorball.ipfs.kubo.KuboRpcNode;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mark and sweep of the store (docs/gc.md).
 *
 * <p>Mark: the manifests of every ordinary repository (revisions and tags) with their configs, layers and
 * index children; everything the content-addressed repositories (published images, clones) hold; the
 * digests the caller keeps (pulled-through content within its retention); and every blob placed or
 * linked within {@code grace} before the mark or at any time after it began (pushes in progress).
 *
 * <p>Sweep: blob entries under {@code blobs/} that nothing marked (and their pins), the layer links of
 * ordinary repositories to them, published copies of manifests no ordinary repository holds any more,
 * ipdr views ({@code _ipdr}) of images no longer published, and (offline only) clones a crash left in
 * {@code _staging}. On the embedded node, its gc then deletes the blocks nothing reaches; Kubo deletes
 * unpinned blocks at its own GC, or right after the sweep when the options ask for it.
 */
public final class GarbageCollector {
    private static final Logger LOG = LoggerFactory.getLogger(GarbageCollector.class);

    private final RegistryStore store;
    private final IpfsNode node;
    private final MfsPaths paths;

    /** One thing a run removed (or would remove): a blob, a published copy, a staging directory. */
    public record Removal(String kind, String name, long size) {
    }

    /**
     * @param removed    what went (or, in a dry run, would go)
     * @param freedBytes bytes the node freed on disk (embedded node), else the size of the removed blobs
     * @param blobDigests the blobs removed, for the cache ledger to forget
     */
    public record Result(boolean dryRun, List<Removal> removed, long freedBytes, Set<Digest> blobDigests) {
        public Result {
            removed = List.copyOf(removed);
            blobDigests = Set.copyOf(blobDigests);
        }
    }

    /**
     * @param dryRun     only list
     * @param offline    nothing else uses the store (the {@code mirrorball gc} command): no grace, and
     *                   {@code _staging} is swept
     * @param keep       digests kept besides the repositories' (the cache within its retention)
     * @param grace      blobs placed or linked this recently are kept (a push between blob and manifest)
     * @param blockGrace block files written this recently stay on the embedded node
     * @param kuboGc     on Kubo, run its block gc after the sweep ({@code storage.ipfs.kubo-gc}; offline only)
     */
    public record Options(boolean dryRun, boolean offline, Set<Digest> keep, Duration grace, Duration blockGrace,
                          boolean kuboGc) {
        public Options {
            keep = Set.copyOf(keep);
            if (grace.isNegative() || blockGrace.isNegative()) {
                throw new IllegalArgumentException("negative gc grace");
            }
            if (kuboGc && !offline) {
                throw new IllegalArgumentException("Kubo's block gc runs only offline");
            }
        }

        /** Without Kubo's block gc. */
        public Options(boolean dryRun, boolean offline, Set<Digest> keep, Duration grace, Duration blockGrace) {
            this(dryRun, offline, keep, grace, blockGrace, false);
        }
    }

    GarbageCollector(RegistryStore store, IpfsNode node, MfsPaths paths) {
        this.store = store;
        this.node = node;
        this.paths = paths;
    }

    /** One run; runs do not overlap. */
    public synchronized Result run(Options options) throws IOException {
        BlobStore blobs = store.blobs();
        blobs.beginMark();
        try {
            return runMarked(options, blobs);
        } finally {
            blobs.endMark();
        }
    }

    private Result runMarked(Options options, BlobStore blobs) throws IOException {
        Duration grace = options.offline() ? Duration.ZERO : options.grace();
        Set<Digest> marked = new HashSet<>(options.keep());
        Set<Digest> ordinaryRevisions = new HashSet<>();
        List<String> ordinary = store.repositories().catalog();
        List<LayerLink> layerLinks = new ArrayList<>();
        for (String repository : ordinary) {
            RepositoryName name = RepositoryName.parse(repository);
            for (Digest revision : digestsUnder(paths.revisions(name))) {
                ordinaryRevisions.add(revision);
                markManifest(revision, marked);
            }
            for (Digest layer : digestsUnder(paths.layers(name))) {
                layerLinks.add(new LayerLink(name, layer));
            }
        }
        List<Removal> removed = new ArrayList<>();
        Set<Digest> removedBlobs = new HashSet<>();
        // published copies of manifests that no ordinary repository holds: unpublished, unless just pushed
        ImageDeleter deleter = store.deleter();
        for (IpfsNode.FileEntry entry : list(paths.repositories())) {
            if (!entry.directory() || !entry.name().matches("[a-f0-9]{64}")) {
                continue;
            }
            Digest digest = Digest.parse("sha256:" + entry.name());
            if (ordinaryRevisions.contains(digest) || blobs.recentlyWritten(digest, grace)) {
                continue;
            }
            Set<Cid> cids = deleter.publishedCids(digest);
            removed.add(new Removal("published", entry.name(), 0));
            for (Cid cid : cids) {
                removed.add(new Removal("published", cid.toString(), 0));
            }
            if (!options.dryRun()) {
                deleter.unpublish(digest, cids);
            }
        }
        // what the remaining content-addressed repositories hold (published images, clones)
        for (IpfsNode.FileEntry entry : list(paths.repositories())) {
            if (!entry.directory() || !RepositoryName.isValid(entry.name())
                    || ContentAddress.of(RepositoryName.parse(entry.name())).isEmpty()) {
                continue;
            }
            if (options.dryRun() && removed.stream().anyMatch(r -> r.name().equals(entry.name()))) {
                continue; // would be unpublished above
            }
            RepositoryName name = RepositoryName.parse(entry.name());
            marked.addAll(digestsUnder(paths.revisions(name)));
            marked.addAll(digestsUnder(paths.layers(name)));
        }
        long blobBytes = 0;
        for (Digest digest : blobs.digests()) {
            if (marked.contains(digest) || blobs.recentlyWritten(digest, grace)) {
                continue;
            }
            if (options.dryRun()) {
                Optional<BlobInfo> info = blobs.stat(digest);
                if (info.isPresent()) {
                    removed.add(new Removal("blob", digest.toString(), info.get().size()));
                    removedBlobs.add(digest);
                    blobBytes += info.get().size();
                }
                continue;
            }
            Optional<BlobInfo> gone = blobs.removeUnlessRecent(digest, grace);
            if (gone.isPresent()) {
                removed.add(new Removal("blob", digest.toString(), gone.get().size()));
                removedBlobs.add(digest);
                blobBytes += gone.get().size();
                LOG.info("gc: removed {} ({} bytes)", digest, gone.get().size());
            }
        }
        if (!options.dryRun()) {
            for (LayerLink link : layerLinks) {
                if (removedBlobs.contains(link.digest()) && !blobs.recentlyWritten(link.digest(), grace)) {
                    blobs.unlink(link.name(), link.digest());
                }
            }
        }
        // ipdr views whose image is no longer published (a crash between placing the view and the
        // digest repository, or an older version's unpublish)
        for (IpfsNode.FileEntry view : list(paths.ipdrImages())) {
            if (!view.name().matches("[a-f0-9]{64}")) {
                continue;
            }
            Digest digest = Digest.parse("sha256:" + view.name());
            if (node.filesStat(paths.repository(view.name())).isPresent() || blobs.recentlyWritten(digest, grace)) {
                continue;
            }
            removed.add(new Removal("ipdr-view", view.name(), 0));
            if (!options.dryRun()) {
                node.filesRm(paths.ipdrImage(digest));
                store.publisher().forget(digest);
            }
        }
        if (options.offline()) {
            for (IpfsNode.FileEntry staging : list(paths.stagingRoot())) {
                removed.add(new Removal("staging", staging.name(), 0));
            }
            if (!options.dryRun()) {
                node.filesRm(paths.stagingRoot());
            }
        }
        long freed = blobBytes;
        if (!options.dryRun() && node instanceof EmbeddedNode embedded) {
            GcReport report = embedded.gc(options.offline() ? Duration.ZERO : options.blockGrace());
            freed = report.bytesFreed();
            LOG.info("gc: the embedded node freed {} bytes ({} blob files, {} block files)", report.bytesFreed(),
                    report.blobFilesRemoved(), report.blockFilesRemoved());
        } else if (!options.dryRun() && options.kuboGc() && node instanceof KuboRpcNode kubo) {
            long before = kubo.repoSize();
            long blocks = kubo.repoGc();
            freed = Math.max(0, before - kubo.repoSize());
            LOG.info("gc: Kubo's repo gc removed {} blocks and freed {} bytes", blocks, freed);
        }
        io.mirrorball.log.Events.log("gc", "removed", removed.size(), "freed", freed, "dry-run", options.dryRun());
        return new Result(options.dryRun(), removed, freed, removedBlobs);
    }

    private record LayerLink(RepositoryName name, Digest digest) {
    }

    /** A manifest, its config and layers, and (recursively) its index children. */
    private void markManifest(Digest digest, Set<Digest> marked) throws IOException {
        if (!marked.add(digest)) {
            return;
        }
        Optional<StoredManifest> manifest;
        try {
            manifest = store.manifests().read(digest);
        } catch (IOException | RuntimeException e) {
            LOG.warn("gc: cannot read manifest {} ({}); keeping what its repository links", digest, e.getMessage());
            return;
        }
        if (manifest.isEmpty()) {
            return;
        }
        Manifest parsed = manifest.get().manifest();
        for (Descriptor blob : parsed.blobs()) {
            marked.add(blob.digest());
        }
        for (Descriptor child : parsed.manifests()) {
            markManifest(child.digest(), marked);
        }
    }

    private List<IpfsNode.FileEntry> list(String dir) throws IOException {
        return MfsListing.entries(node, dir);
    }

    /** {@code <dir>/<algorithm>/<hex>}: the digests named by the entries. */
    private List<Digest> digestsUnder(String dir) throws IOException {
        List<Digest> digests = new ArrayList<>();
        MfsListing.digestsUnder(node, dir, digests);
        return digests;
    }
}
