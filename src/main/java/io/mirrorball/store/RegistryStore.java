package io.mirrorball.store;

import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.Cid;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The registry on top of an {@link IpfsNode}: blobs, uploads, manifests, repositories, publishing and cloning. */
public final class RegistryStore implements AutoCloseable {
    private final IpfsNode node;
    private final BlobStore blobs;
    private final UploadStore uploads;
    private final ManifestStore manifests;
    private final RepositoryIndex repositories;
    private final UpstreamTags upstreamTags;
    private final ImagePublisher publisher;
    private final ImageCloner cloner;
    private final ImageDeleter deleter;
    private final GarbageCollector collector;
    private final Scrub scrub;
    private final PushHistory pushHistory;
    private final MfsPaths paths;
    private final ExecutorService cloneThreads;
    /** The parallel block/puts of publishing (never shared with clones, which may wait on the network). */
    private final ExecutorService publishThreads;
    private final ExecutorService prefetchThreads;
    /** Reads the blobs of clones to check them against their digests (a clone waits for them). */
    private final ExecutorService cloneVerifyThreads;

    private RegistryStore(IpfsNode node, MfsPaths paths, UploadStore uploads, BlobStore blobs,
                          ExecutorService cloneThreads, int maxCloneWaits, PushHistory pushHistory) {
        this.cloneThreads = cloneThreads;
        this.paths = paths;
        this.pushHistory = pushHistory;
        this.node = node;
        this.blobs = blobs;
        this.uploads = uploads;
        this.manifests = new ManifestStore(node, paths, blobs);
        this.repositories = new RepositoryIndex(node, paths, Ticker.systemTicker());
        this.upstreamTags = new UpstreamTags(node, paths);
        this.publishThreads = Executors.newFixedThreadPool(8, Threads.named("mirrorball-publish"));
        this.publisher = new ImagePublisher(node, paths, blobs, manifests, publishThreads);
        manifests.publishWith(publisher);
        manifests.recordPushesIn(pushHistory);
        this.prefetchThreads = Executors.newFixedThreadPool(4, Threads.named("mirrorball-prefetch"));
        this.cloneVerifyThreads = Executors.newFixedThreadPool(4, Threads.named("mirrorball-clone-verify"));
        this.cloner = new ImageCloner(node, paths, blobs, cloneThreads, prefetchThreads, cloneVerifyThreads,
                maxCloneWaits);
        cloner.publishForeignImagesWith(manifests, publisher);
        this.deleter = new ImageDeleter(node, paths, manifests, publisher, repositories);
        this.collector = new GarbageCollector(this, node, paths);
        this.scrub = new Scrub(node, paths, blobs);
    }

    /** As {@link #open(IpfsNode, String, Path, Duration, Clock, int)} with the default bound of 64 clone waits. */
    public static RegistryStore open(IpfsNode node, String mfsRoot, Path uploadsPath, Duration uploadExpiry,
                                     Clock clock) throws IOException {
        return open(node, mfsRoot, uploadsPath, uploadExpiry, clock, 64);
    }

    /**
     * @param mfsRoot       absolute MFS path under which everything lives
     * @param uploadsPath   local directory for upload sessions
     * @param maxCloneWaits requests that may wait for clones at once (and clones in flight)
     */
    public static RegistryStore open(IpfsNode node, String mfsRoot, Path uploadsPath, Duration uploadExpiry,
                                     Clock clock, int maxCloneWaits) throws IOException {
        MfsPaths paths = new MfsPaths(mfsRoot);
        BlobStore blobs = new BlobStore(node, paths);
        ExecutorService cloneThreads = Executors.newFixedThreadPool(4, Threads.named("mirrorball-clone"));
        return new RegistryStore(node, paths, new UploadStore(uploadsPath, uploadExpiry, clock, blobs), blobs,
                cloneThreads, maxCloneWaits, PushHistory.open(uploadsPath.resolve("history"), clock));
    }

    public IpfsNode node() {
        return node;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public UploadStore uploads() {
        return uploads;
    }

    public ManifestStore manifests() {
        return manifests;
    }

    public RepositoryIndex repositories() {
        return repositories;
    }

    /** Tag to digest as learned from each upstream, kept across restarts. */
    public UpstreamTags upstreamTags() {
        return upstreamTags;
    }

    public ImagePublisher publisher() {
        return publisher;
    }

    public ImageCloner cloner() {
        return cloner;
    }

    /** Deletion of manifests and of the published copies no repository needs any more. */
    public ImageDeleter deleter() {
        return deleter;
    }

    /** Mark and sweep of the store. */
    public GarbageCollector collector() {
        return collector;
    }

    /** When tags were pushed here, and the latest pushes (local to this instance). */
    public PushHistory pushHistory() {
        return pushHistory;
    }

    /**
     * A number that moves whenever a repository or tag may have appeared or gone here (pushes, deletes,
     * upstream tags, clones, gc): readers that cache listings read them again when it moved. Another
     * instance sharing the MFS root does not move it.
     */
    public long changes() {
        return manifests.writes() + upstreamTags.writes() + cloner.clones().getCount();
    }

    /** What the store holds: the bytes of every blob's blocks and the number of blobs. */
    public record Usage(long bytes, long blobs) {
    }

    /** Bytes under {@code blobs/}: the cumulative size of its DAG (every blob, manifest and config, once). */
    public long storedBytes() throws IOException {
        return node.filesStat(paths.blobs()).map(IpfsNode.FileStat::cumulativeSize).orElse(0L);
    }

    /**
     * The size and number of blobs under {@code blobs/}: one stat and one listing per two-hex prefix,
     * so a caller that shows it often caches it.
     */
    public Usage usage() throws IOException {
        long bytes = storedBytes();
        long count = 0;
        for (IpfsNode.FileEntry algorithm : MfsListing.entries(node, paths.blobs())) {
            if (!algorithm.directory() || !algorithm.name().matches("[a-z0-9]+")) {
                continue;
            }
            for (IpfsNode.FileEntry prefix : MfsListing.entries(node, paths.blobs() + "/" + algorithm.name())) {
                if (prefix.directory() && prefix.name().matches("[a-f0-9]{2}")) {
                    count += MfsListing.entries(node, paths.blobPrefix(algorithm.name(), prefix.name())).size();
                }
            }
        }
        return new Usage(bytes, count);
    }

    /**
     * The {@code disco.json} of an image published or cloned here, streamed from MFS; empty when this
     * store holds no image directory of that CID. Never fetches from the network.
     */
    public Optional<InputStream> discoJson(Cid cid) throws IOException {
        String path = paths.repository(cid.toString()) + "/disco.json";
        if (node.filesStat(path).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(node.filesRead(path, 0, -1));
    }

    /** The online check of stored blobs against their digests. */
    public Scrub scrub() {
        return scrub;
    }

    /**
     * Longest wait at close for the pins a clone started in the background. They only record blocks
     * that are local, so they finish quickly; cutting one off can leave Kubo without the image's pin.
     */
    private static final Duration PREFETCH_DRAIN = Duration.ofSeconds(30);

    @Override
    public void close() {
        cloneThreads.shutdownNow();
        publishThreads.shutdownNow();
        prefetchThreads.shutdown();
        try {
            prefetchThreads.awaitTermination(PREFETCH_DRAIN.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        prefetchThreads.shutdownNow();
        cloneVerifyThreads.shutdownNow();
        uploads.close();
        blobs.close();
    }
}
