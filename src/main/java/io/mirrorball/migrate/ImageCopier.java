package io.mirrorball.migrate;

import io.mirrorball.migrate.dest.BlobPlan;
import io.mirrorball.migrate.dest.Destination;
import io.mirrorball.migrate.dest.Published;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.migrate.source.ImageTask;
import io.mirrorball.migrate.source.Source;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Copies one image: reads its manifests (an index's children to depth {@link #MAX_DEPTH}, as the
 * publisher walks them), has every blob copied, then puts the manifests in an order that never shows
 * a half-copied image: children by digest, then the image under its tag (that put publishes it and
 * gives the CID), then its referrers by digest. A killed run therefore leaves the tag where it was.
 */
final class ImageCopier {
    static final int MAX_DEPTH = 4;

    private final Destination destination;
    private final String destinationHost;
    private final BlobCopier blobs;
    private final RetryPolicy retry;
    private final Progress progress;
    private final MigrateOptions options;
    private final TestHalt halt;

    ImageCopier(Destination destination, String destinationHost, BlobCopier blobs, RetryPolicy retry,
                Progress progress, MigrateOptions options, TestHalt halt) {
        this.destination = destination;
        this.destinationHost = destinationHost;
        this.blobs = blobs;
        this.retry = retry;
        this.progress = progress;
        this.options = options;
        this.halt = halt;
    }

    /** Everything one image is made of, read from the source. */
    private record Plan(Fetched top, List<Fetched> children, Set<Descriptor> blobs) {
        long bytes() {
            return blobs.stream().mapToLong(Descriptor::size).sum();
        }
    }

    ImageResult copy(Source source, String sourceHost, ImageTask task) throws IOException {
        RepositoryName repository = destinationName(task);
        Plan plan = plan(source, sourceHost, task.repository(), task.reference(), task.source());
        progress.imagePlanned(task.source(), plan.blobs().size(), plan.bytes());
        source.rateLimit().filter(io.mirrorball.upstream.RateLimitInfo::low).ifPresent(limit ->
                progress.warning(sourceHost + " rate limit: " + limit.describe()));
        Reference reference = task.reference().isDigest() ? Reference.ofDigest(plan.top().digest()) : task.reference();
        String shown = repository + (reference.isDigest() ? "@" + reference : ":" + reference);
        if (options.dryRun()) {
            return dryRun(task, repository, reference, shown, plan);
        }
        long copied = 0;
        int sent = 0;
        int skipped = 0;
        for (BlobCopier.Outcome outcome : copyBlobs(source, sourceHost, task, repository, plan.blobs())) {
            copied += outcome.bytesCopied();
            if (outcome.skipped()) {
                skipped++;
            } else {
                sent++;
            }
        }
        for (Fetched child : plan.children()) {
            halt.beforeManifest();
            putRelinking(repository, Reference.ofDigest(child.digest()), child, plan.blobs());
        }
        halt.beforeManifest();
        Published published = putRelinking(repository, reference, plan.top(), plan.blobs());
        halt.afterPublish();
        if (options.referrers()) {
            copyReferrers(source, sourceHost, task, repository, plan.top().digest());
        }
        return new ImageResult(task.source(), shown, published.digest(), published.cid(), copied, sent, skipped);
    }

    private RepositoryName destinationName(ImageTask task) {
        String name = options.destinationPrefix() + task.destination();
        if (!RepositoryName.isValid(name)) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "'" + name
                    + "' is not a valid repository name at the destination");
        }
        return RepositoryName.parse(name);
    }

    private Plan plan(Source source, String sourceHost, String repository, Reference reference, String image)
            throws IOException {
        Fetched top = fetch(source, sourceHost, repository, reference, image);
        if (options.platform() != null && parse(top, image).isIndex()) {
            Digest child = options.platform().pick(top.bytes()).orElseThrow(() -> new MigrateException(
                    FailureKind.NOT_FOUND, image + " has no manifest for platform " + options.platform()));
            top = fetch(source, sourceHost, repository, Reference.ofDigest(child), image);
        }
        List<Fetched> children = new ArrayList<>();
        Set<Descriptor> blobs = new LinkedHashSet<>();
        walk(source, sourceHost, repository, top, image, 0, children, blobs);
        return new Plan(top, children, blobs);
    }

    /** Adds an index's children (deepest first, the order they must be put in) and every blob. */
    private void walk(Source source, String sourceHost, String repository, Fetched fetched, String image, int depth,
                      List<Fetched> children, Set<Descriptor> blobs) throws IOException {
        Manifest manifest = parse(fetched, image);
        for (Descriptor blob : manifest.blobs()) {
            if (!blob.isForeign()) {
                blobs.add(blob);
            }
        }
        if (manifest.isIndex()) {
            if (depth >= MAX_DEPTH) {
                throw new MigrateException(FailureKind.UNSUPPORTED, image + ": indexes nested deeper than "
                        + MAX_DEPTH);
            }
            for (Descriptor child : manifest.manifests()) {
                Fetched childManifest = fetch(source, sourceHost, repository, Reference.ofDigest(child.digest()), image);
                if (childManifest.bytes().length != child.size()) {
                    throw new MigrateException(FailureKind.INVALID_SOURCE, image + ": manifest " + child.digest()
                            + " has " + childManifest.bytes().length + " bytes, its index says " + child.size());
                }
                walk(source, sourceHost, repository, childManifest, image, depth + 1, children, blobs);
                children.add(childManifest);
            }
        }
    }

    private Fetched fetch(Source source, String sourceHost, String repository, Reference reference, String image)
            throws IOException {
        return retry.call(sourceHost, () -> source.manifest(repository, reference));
    }

    private static Manifest parse(Fetched fetched, String image) {
        try {
            return fetched.parse();
        } catch (OciException e) {
            if (e.getMessage() != null && e.getMessage().contains("schemaVersion")) {
                throw new MigrateException(FailureKind.UNSUPPORTED, image + ": Docker schema 1 (or another"
                        + " schemaVersion) is not supported: " + e.detail());
            }
            throw new MigrateException(FailureKind.INVALID_SOURCE, image + ": manifest " + fetched.digest()
                    + " is invalid: " + e.detail());
        }
    }

    private List<BlobCopier.Outcome> copyBlobs(Source source, String sourceHost, ImageTask task,
                                               RepositoryName repository, Set<Descriptor> wanted) throws IOException {
        Map<Digest, CompletableFuture<BlobCopier.Outcome>> futures = new LinkedHashMap<>();
        for (Descriptor blob : wanted) {
            futures.computeIfAbsent(blob.digest(), d -> blobs.copy(new BlobCopier.Job(source, task.repository(),
                    sourceHost, repository, blob, task.source())));
        }
        List<BlobCopier.Outcome> outcomes = new ArrayList<>();
        MigrateException first = null;
        for (CompletableFuture<BlobCopier.Outcome> future : futures.values()) {
            try {
                outcomes.add(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MigrateException(FailureKind.INTERRUPTED, task.source() + ": interrupted");
            } catch (ExecutionException e) {
                if (first == null) {
                    first = Failures.of(e.getCause(), task.source());
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return outcomes;
    }

    private Published put(RepositoryName repository, Reference reference, Fetched manifest) throws IOException {
        return retry.call(destinationHost, () -> destination.putManifest(repository, reference, manifest));
    }

    /**
     * Puts a manifest; when the destination answers that a blob it acknowledged is not in the
     * repository (MANIFEST_BLOB_UNKNOWN: a registry on eventually consistent storage, or a link the
     * destination lost), links the image's blobs again (mounts, never uploads) and puts once more.
     */
    private Published putRelinking(RepositoryName repository, Reference reference, Fetched manifest,
                                   Set<Descriptor> blobs) throws IOException {
        try {
            return put(repository, reference, manifest);
        } catch (MigrateException e) {
            if (e.kind() != FailureKind.DESTINATION_REFUSED || !e.getMessage().contains("MANIFEST_BLOB_UNKNOWN")) {
                throw e;
            }
            progress.warning("the destination lost track of a blob of " + repository + ": linking them again");
            for (Descriptor blob : blobs) {
                BlobPlan plan = retry.call(destinationHost, () -> destination.ensureBlob(repository, blob));
                if (plan instanceof BlobPlan.Upload upload) {
                    destination.cancel(repository, upload.token());
                    throw e; // the destination does not hold it at all: not a lost link
                }
            }
            return put(repository, reference, manifest);
        }
    }

    private void copyReferrers(Source source, String sourceHost, ImageTask task, RepositoryName repository,
                               Digest subject) throws IOException {
        List<Descriptor> referrers = retry.call(sourceHost, () -> source.referrers(task.repository(), subject));
        for (Descriptor referrer : referrers) {
            Plan plan = plan(source, sourceHost, task.repository(), Reference.ofDigest(referrer.digest()),
                    task.source() + " (referrer " + referrer.digest() + ")");
            copyBlobs(source, sourceHost, task, repository, plan.blobs());
            for (Fetched child : plan.children()) {
                put(repository, Reference.ofDigest(child.digest()), child);
            }
            put(repository, Reference.ofDigest(plan.top().digest()), plan.top());
        }
    }

    private ImageResult dryRun(ImageTask task, RepositoryName repository, Reference reference, String shown, Plan plan)
            throws IOException {
        long bytes = 0;
        int missing = 0;
        int present = 0;
        for (Descriptor blob : plan.blobs()) {
            if (retry.call(destinationHost, () -> destination.hasBlob(repository, blob.digest()))) {
                present++;
            } else {
                missing++;
                bytes += blob.size();
            }
        }
        Optional<Published> existing = retry.call(destinationHost, () -> destination.existing(repository, reference));
        return new ImageResult(task.source(), shown, plan.top().digest(),
                existing.filter(p -> p.digest().equals(plan.top().digest())).map(Published::cid).orElse(null),
                bytes, missing, present);
    }
}
