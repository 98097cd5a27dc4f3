package io.mirrorball.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clones a content-addressed image that is not here yet: {@code files/cp /ipfs/<cid>} into a
 * staging directory, then every blob that disco.json lists into the blob layout, each only after its
 * bytes were read and checked against its digest, then one {@code files/mv} makes the repository
 * visible. Works for mirrorball's images (blobs inside the
 * directory) and disco's (CIDv0 blobs outside it). Bounded by a timeout; never hangs a request.
 */
public final class ImageCloner {
    private static final Logger LOG = LoggerFactory.getLogger(ImageCloner.class);
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final int DISCO_JSON_CAP = 4 * 1024 * 1024;

    /** Finished clones and their durations. */
    private final com.codahale.metrics.Timer clones = new com.codahale.metrics.Timer();
    private final IpfsNode node;
    private final MfsPaths paths;
    private final BlobStore blobs;
    private final ExecutorService executor;
    /** Background pins after a clone; never the clone pool, so a long prefetch cannot delay a clone. */
    private final ExecutorService prefetchThreads;
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    /**
     * Requests that may wait for a clone at once; also the most clones that may be in flight. A
     * clone can wait on the network for the whole timeout, so without a bound, pulls of CIDs that
     * cannot be had would hold every request thread.
     */
    private final int maxWaits;
    private final Semaphore waits;

    /** Reads the blobs of a clone side by side to check them; never the clone pool, which waits for them. */
    private final ExecutorService verifyThreads;
    /** Images refused because a blob's CID holds other bytes: content-addressed, so refused for good. */
    private final Cache<Cid, String> refused = Caffeine.newBuilder().maximumSize(10_000).build();

    /** Publishes the images of other programs' formats as mirrorball images (set once by the RegistryStore). */
    private ImagePublisher publisher;
    private ManifestStore manifests;

    void publishForeignImagesWith(ManifestStore manifests, ImagePublisher publisher) {
        this.manifests = manifests;
        this.publisher = publisher;
    }

    ImageCloner(IpfsNode node, MfsPaths paths, BlobStore blobs, ExecutorService executor,
                ExecutorService prefetchThreads, ExecutorService verifyThreads, int maxWaits) {
        if (maxWaits < 1) {
            throw new IllegalArgumentException("maxWaits must be at least 1, not " + maxWaits);
        }
        this.maxWaits = maxWaits;
        this.waits = new Semaphore(maxWaits);
        this.prefetchThreads = prefetchThreads;
        this.verifyThreads = verifyThreads;
        this.node = node;
        this.paths = paths;
        this.blobs = blobs;
        this.executor = executor;
    }

    /** The clones that placed a repository (for metrics), with their durations. */
    public com.codahale.metrics.Timer clones() {
        return clones;
    }

    /** True when the repository of this address is here. */
    public boolean isPresent(ContentAddress address) throws IOException {
        return node.filesStat(paths.repository(address.name())).isPresent();
    }

    /**
     * Makes the repository present, cloning it if allowed; NAME_UNKNOWN when it cannot be had within
     * the timeout. Concurrent requests for one CID share one clone. When as many requests already
     * wait for clones as allowed, or as many clones are in flight, UNAVAILABLE with Retry-After.
     */
    public void ensurePresent(ContentAddress address, boolean cloneEnabled, Duration timeout) throws IOException {
        if (isPresent(address)) {
            return;
        }
        if (!address.isDigest() && node.filesStat(paths.deletedImage(address.cid())).isPresent()) {
            // the node may still hold its blocks (until a gc): a deleted image is not served from them
            throw new OciException(OciErrorCode.NAME_UNKNOWN, "repository " + address.name() + " was deleted here");
        }
        if (address.isDigest() || !cloneEnabled) {
            throw new OciException(OciErrorCode.NAME_UNKNOWN, "repository " + address.name() + " is not here"
                    + (address.isDigest() ? "" : " and cloning is disabled"));
        }
        if (!waits.tryAcquire()) {
            throw busy(address, maxWaits + " pulls already wait for clones");
        }
        try {
            await(address, startClone(address), timeout);
        } finally {
            waits.release();
        }
    }

    /** The clone of this address in flight, started now if there is none and the bound allows one more. */
    private CompletableFuture<Void> startClone(ContentAddress address) {
        CompletableFuture<Void> running = inFlight.get(address.name());
        if (running != null) {
            return running;
        }
        if (inFlight.size() >= maxWaits) {
            throw busy(address, inFlight.size() + " clones are in progress");
        }
        return inFlight.computeIfAbsent(address.name(), k -> {
            CompletableFuture<Void> f = CompletableFuture.runAsync(() -> cloneNow(address), executor);
            f.whenComplete((ok, error) -> inFlight.remove(address.name()));
            return f;
        });
    }

    private static OciException busy(ContentAddress address, String why) {
        return new OciException(OciErrorCode.UNAVAILABLE, "cannot clone " + address.cid() + " now: " + why
                + "; try again later").withHeader("Retry-After", "10");
    }

    private void await(ContentAddress address, CompletableFuture<Void> clone, Duration timeout) throws IOException {
        try {
            clone.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new OciException(OciErrorCode.NAME_UNKNOWN, "could not fetch " + address.cid() + " from IPFS within "
                    + timeout.toSeconds() + "s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OciException(OciErrorCode.UNAVAILABLE, "interrupted while cloning " + address.cid());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
            if (cause instanceof OciException oci) {
                throw oci;
            }
            if (cause instanceof IpfsNotFoundException) {
                throw new OciException(OciErrorCode.NAME_UNKNOWN, "IPFS has no image at " + address.cid() + ": "
                        + cause.getMessage());
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("cloning " + address.cid(), cause);
        }
    }

    /** Clones and writes a {@code clone} event line: its CID, duration and result. */
    private void cloneNow(ContentAddress address) {
        long start = System.nanoTime();
        String result = "failed";
        try {
            result = cloneAndPlace(address) ? "cloned" : "present";
        } catch (OciException e) {
            result = "refused";
            throw e;
        } catch (java.io.UncheckedIOException e) {
            result = e.getCause() instanceof IpfsNotFoundException ? "not_found" : "failed";
            throw e;
        } finally {
            io.mirrorball.log.Events.log("clone", "cid", address.cid(), "duration_ms",
                    (System.nanoTime() - start) / 1_000_000, "result", result);
        }
    }

    /** True when this clone placed the repository, false when another had placed it meanwhile. */
    private boolean cloneAndPlace(ContentAddress address) {
        String refusal = refused.getIfPresent(address.cid());
        if (refusal != null) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, refusal);
        }
        String staging = paths.staging(UUID.randomUUID().toString());
        long start = System.nanoTime();
        try {
            node.filesCp("/ipfs/" + address.cid(), staging);
            boolean directory = node.filesStat(staging).map(IpfsNode.FileStat::directory).orElse(false);
            String ready = staging; // the repository to place: the copy itself, or one assembled beside it
            Map<Digest, BlobInfo> stored;
            if (directory && node.filesStat(staging + "/disco.json").isPresent()) {
                stored = placeVerified(address, discoBlobs(readDiscoJson(staging, address), address));
            } else {
                ready = staging + "-repository";
                stored = cloneForeign(address, staging, directory, ready);
            }
            if (node.filesStat(paths.repository(address.name())).isEmpty()) {
                node.filesMkdir(paths.repositories());
                node.filesMv(ready, paths.repository(address.name()));
                LOG.info("cloned {} ({} blobs, each checked against its digest)", address.cid(), stored.size());
                clones.update(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
                prefetch(address, stored.values());
                return true;
            }
            return false;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            for (String leftover : List.of(staging, staging + "-repository")) {
                try {
                    node.filesRm(leftover);
                } catch (IOException e) {
                    LOG.warn("removing staging copy {}: {}", leftover, e.toString());
                }
            }
        }
    }

    /**
     * Makes every blob that disco.json lists present in the blob store, checked: a blob stored
     * already is used as it is (everything in the store was verified when placed); any other is read
     * whole through the node and placed only when its bytes match its digest. The checks run side by
     * side on the verify pool. One blob whose CID holds other bytes refuses the whole clone
     * (MANIFEST_INVALID, remembered for this CID): the others are stopped, the repository never
     * becomes visible, and only blobs whose bytes were proven right stay in the store.
     */
    private static Map<Digest, List<ForeignImage.Listed>> discoBlobs(JsonNode disco, ContentAddress address) {
        Map<Digest, List<ForeignImage.Listed>> listed = new LinkedHashMap<>(); // all parsed before any check starts
        for (JsonNode entry : disco.get("blobs")) {
            listed.computeIfAbsent(discoDigest(entry, address), d -> new ArrayList<>())
                    .add(new ForeignImage.Listed(discoCid(entry, address), -1));
        }
        return listed;
    }

    /**
     * Clones an image of another program's format (ipdr's directory, nerdctl's descriptor): its manifests are
     * read and hashed, its blobs checked like disco's, and then it is published as a mirrorball image; the
     * repository assembled at {@code repository} is a copy of that image's directory with every tag the
     * foreign image had.
     */
    private Map<Digest, BlobInfo> cloneForeign(ContentAddress address, String staging, boolean directory,
                                               String repository) throws IOException {
        String image = address.cid().toString();
        ForeignManifests foreignManifests = new ForeignManifests(node, blobs, image);
        ForeignImage foreign;
        try {
            if (directory && IpdrImageReader.recognizes(node, staging)) {
                foreign = new IpdrImageReader(node, foreignManifests).read(staging);
            } else if (!directory) {
                foreign = new NerdctlImageReader(foreignManifests).read(foreignManifests.readFile(staging,
                        NerdctlImageReader.DESCRIPTOR_CAP, "its descriptor"));
            } else {
                throw new OciException(OciErrorCode.NAME_UNKNOWN, image + " is not an image: no disco.json, no"
                        + " ipdr manifests/ directory and no OCI descriptor");
            }
        } catch (OciException e) {
            if (e.code() == OciErrorCode.MANIFEST_INVALID) {
                LOG.warn("refused to clone {}: {}", image, e.getMessage());
                refused.put(address.cid(), e.getMessage());
            }
            throw e;
        }
        Map<Digest, List<ForeignImage.Listed>> listed = new LinkedHashMap<>();
        foreign.blobs().forEach((digest, where) -> listed.put(digest, List.of(where)));
        Map<Digest, BlobInfo> stored = placeVerified(address, listed);
        RepositoryName name = RepositoryName.parse(address.name());
        Cid first = null;
        for (Digest top : foreign.tops()) {
            StoredManifest manifest = manifests.read(top).orElseThrow(() -> new OciException(
                    OciErrorCode.MANIFEST_BLOB_UNKNOWN, "manifest " + top + " of " + image + " is not stored"));
            Cid published = publisher.publish(name, manifest).cid();
            if (first == null) {
                first = published;
                node.filesCp("/ipfs/" + published, repository);
            } else {
                linkImage(repository, manifest);
            }
        }
        for (Map.Entry<String, Digest> tag : foreign.tags().entrySet()) {
            writeLink(MfsPaths.tagIndexLinkIn(repository, tag.getKey(), tag.getValue()), tag.getValue());
            writeLink(MfsPaths.tagCurrentLinkIn(repository, tag.getKey()), tag.getValue());
        }
        LOG.info("read {} as an image of {} ({} tags)", image, foreign.format(), foreign.tags().size());
        return stored;
    }

    /** Links a further top manifest of a foreign image, its children and their blobs into the repository. */
    private void linkImage(String repository, StoredManifest top) throws IOException {
        writeLink(MfsPaths.revisionLinkIn(repository, top.digest()), top.digest());
        List<io.mirrorball.oci.Manifest> images = new ArrayList<>();
        images.add(top.manifest());
        for (io.mirrorball.oci.Descriptor child : top.manifest().manifests()) {
            writeLink(MfsPaths.revisionLinkIn(repository, child.digest()), child.digest());
            manifests.read(child.digest()).ifPresent(m -> images.add(m.manifest()));
        }
        for (io.mirrorball.oci.Manifest image : images) {
            for (io.mirrorball.oci.Descriptor blob : image.blobs()) {
                if (blobs.stat(blob.digest()).isPresent()) {
                    writeLink(MfsPaths.layerLinkIn(repository, blob.digest()), blob.digest());
                }
            }
        }
    }

    private void writeLink(String path, Digest digest) throws IOException {
        node.filesWrite(path, digest.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private Map<Digest, BlobInfo> placeVerified(ContentAddress address, Map<Digest, List<ForeignImage.Listed>> listed)
            throws IOException {
        Map<Digest, BlobInfo> stored = new LinkedHashMap<>();
        CompletionService<BlobInfo> checked = new ExecutorCompletionService<>(verifyThreads);
        List<Future<BlobInfo>> checks = new ArrayList<>();
        AtomicBoolean failed = new AtomicBoolean();
        String image = address.cid().toString();
        for (Map.Entry<Digest, List<ForeignImage.Listed>> blob : listed.entrySet()) {
            Digest digest = blob.getKey();
            Optional<BlobInfo> present = blobs.stat(digest);
            if (present.isPresent()) {
                stored.put(digest, present.get());
                continue;
            }
            for (ForeignImage.Listed where : blob.getValue()) { // listed twice: every CID given must hold its bytes
                checks.add(checked.submit(() -> blobs.placeCloned(digest, where.cid(), where.size(), image,
                        failed::get)));
            }
        }
        Throwable failure = null;
        try {
            for (int i = 0; i < checks.size(); i++) {
                BlobInfo blob = checked.take().get(); // in the order they finish: the first failure ends the wait
                stored.put(blob.digest(), blob);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new java.io.InterruptedIOException("interrupted while checking the blobs of " + image);
        } catch (ExecutionException e) {
            failure = e.getCause();
        } finally {
            if (failure != null) {
                // the others stop at their next read; nobody waits for them
                failed.set(true);
                checks.forEach(f -> f.cancel(true));
            }
        }
        if (failure instanceof OciException oci) {
            LOG.warn("refused to clone {}: {}", image, oci.getMessage());
            refused.put(address.cid(), oci.getMessage());
            throw oci;
        }
        if (failure instanceof IOException io) {
            throw io;
        }
        if (failure != null) {
            throw new IllegalStateException("checking the blobs of " + image, failure);
        }
        return stored;
    }

    /**
     * Pins the image and every blob it lists, in the background, so that the node's garbage collector
     * keeps the clone. The blobs were read whole while they were checked, so their blocks are local
     * and the pins only record them; each blob is pinned by the CID it is stored as.
     */
    private void prefetch(ContentAddress address, java.util.Collection<BlobInfo> stored) {
        List<Cid> roots = new ArrayList<>();
        roots.add(address.cid());
        for (BlobInfo blob : stored) {
            roots.add(blob.cid());
        }
        for (Cid root : roots) {
            prefetchThreads.execute(() -> {
                try {
                    node.pinAdd(root);
                } catch (IOException e) {
                    LOG.warn("pinning {} of {}: {}", root, address.cid(), e.getMessage());
                }
            });
        }
    }

    private JsonNode readDiscoJson(String staging, ContentAddress address) throws IOException {
        byte[] content;
        try (InputStream in = node.filesRead(staging + "/disco.json", 0, DISCO_JSON_CAP + 1)) {
            byte[] buffer = new byte[DISCO_JSON_CAP + 1];
            int n = StreamCopy.readFully(in, buffer);
            if (n > DISCO_JSON_CAP) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID, address.cid() + ": disco.json is too large");
            }
            content = java.util.Arrays.copyOf(buffer, n);
        } catch (IpfsNotFoundException e) {
            throw new OciException(OciErrorCode.NAME_UNKNOWN, address.cid() + " is not an image: no disco.json");
        }
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (IOException e) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, address.cid() + ": disco.json is not JSON");
        }
        if (root == null || !root.isObject() || !root.path("blobs").isArray()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, address.cid() + ": disco.json has no blobs list");
        }
        return root;
    }

    private static Digest discoDigest(JsonNode entry, ContentAddress address) {
        String text = entry.path("digest").asText("");
        String full = text.contains(":") ? text : "sha256:" + text;
        if (!Digest.isDigest(full)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, address.cid() + ": bad digest in disco.json: " + text);
        }
        return Digest.parse(full);
    }

    private static Cid discoCid(JsonNode entry, ContentAddress address) {
        try {
            return Cid.parse(entry.path("cid").asText(""));
        } catch (IllegalArgumentException e) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, address.cid() + ": bad CID in disco.json: "
                    + entry.path("cid").asText(""));
        }
    }
}
