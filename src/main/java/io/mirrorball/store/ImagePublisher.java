package io.mirrorball.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.DirectoryParams;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Platform;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Publishes an image as one self-contained, content-addressed directory (docs/architecture.md, "The published
 * image"): disco.json, the {@code _manifests} and {@code _layers} links, and {@code blobs/sha256/<hex>}
 * links to every blob file, so that pinning the CID pins the whole image. The CID is computed here
 * from dag-pb and UnixFS blocks put with {@code block/put}: it is a pure function of the image.
 */
public final class ImagePublisher {
    /**
     * How the image directories are built: Kubo's defaults, so that {@code ipfs add -r} of the same
     * tree on a Kubo node with default {@code Import} settings gives the same CID. A large image's
     * {@code blobs/sha256} directory (about 2,500 blobs or more) is HAMT-sharded, as Kubo shards it.
     */
    static final DirectoryParams DIRECTORIES = DirectoryParams.KUBO_DEFAULTS;
    /** Deepest index nesting followed (an index of indexes of manifests is depth 2). */
    private static final int MAX_DEPTH = 4;
    /** The platform of an index whose image ipdr's {@code manifests/latest} names. */
    private static final Platform LINUX_AMD64 = new Platform("linux", "amd64", null);

    private final IpfsNode node;
    private final ExecutorService putThreads;
    private final MfsPaths paths;
    private final BlobStore blobs;
    private final ManifestStore manifests;
    /** Tsize of a blob file's root, by CID (immutable). */
    private final Cache<Cid, Long> tsizes = Caffeine.newBuilder().maximumSize(100_000).build();
    /** The image CID published for a top manifest digest (immutable). */
    private final Cache<Digest, Cid> published = Caffeine.newBuilder().maximumSize(100_000).build();
    /** The CID of the ipdr view of the image published for a top manifest digest (immutable). */
    private final Cache<Digest, Cid> ipdrViews = Caffeine.newBuilder().maximumSize(100_000).build();
    /** Finished publishes and their durations. */
    private final com.codahale.metrics.Timer publishes = new com.codahale.metrics.Timer();

    ImagePublisher(IpfsNode node, MfsPaths paths, BlobStore blobs, ManifestStore manifests,
                   ExecutorService putThreads) {
        this.putThreads = putThreads;
        this.node = node;
        this.paths = paths;
        this.blobs = blobs;
        this.manifests = manifests;
    }

    /**
     * The image CID, the repository named by the manifest digest that reveals it, and the CID of the
     * image in ipdr's layout (sha256 manifests only).
     */
    public record Published(Cid cid, Digest digest, Optional<Cid> ipdrCid) {
    }

    /**
     * Builds the image directory of a stored manifest (with every child of an index), computes its
     * CID, and places copies at {@code repositories/<cid>} and {@code repositories/<digest hex>}.
     * Each copy is placed by one {@code files/cp} of a complete DAG, so a failure leaves nothing
     * half-published, and publishing again is idempotent. Writes a {@code publish} event line naming
     * {@code repository}, the repository it was pushed to or pulled through.
     */
    public Published publish(io.mirrorball.oci.RepositoryName repository, StoredManifest top) throws IOException {
        long start = System.nanoTime();
        Published result = publish(top);
        io.mirrorball.log.Events.log("publish", "repository", repository, "digest", top.digest(), "cid", result.cid(),
                "ipdr_cid", result.ipdrCid().map(Cid::toString).orElse("-"),
                "duration_ms", (System.nanoTime() - start) / 1_000_000);
        return result;
    }

    private Published publish(StoredManifest top) throws IOException {
        long start = System.nanoTime();
        Image image = collect(top);
        Blocks blocks = new Blocks();
        Tree tree = tree(top.digest(), image);
        Cid cid = tree.encode(blocks);
        String hex = top.digest().hex();
        // the repository named by the digest exists for sha256 only: content-addressed names are 64 hex
        boolean digestRepository = top.digest().algorithm().equals("sha256");
        Cid digestRepositoryCid = null;
        Cid ipdrCid = null;
        if (digestRepository) {
            tree.file("_manifests/tags/" + cid + "/current/link", link(top.digest()));
            tree.file("_manifests/tags/" + cid + "/index/" + path(top.digest()) + "/link", link(top.digest()));
            digestRepositoryCid = tree.encode(blocks);
            ipdrCid = ipdrTree(top, image).encode(blocks);
        }
        putAll(blocks);
        node.filesRm(paths.deletedImage(cid)); // published again: no longer a deleted image
        place(cid, paths.repository(cid.toString()));
        if (digestRepository) {
            node.filesRm(paths.deletedImage(ipdrCid));
            place(ipdrCid, paths.ipdrImage(top.digest()));
            place(digestRepositoryCid, paths.repository(hex)); // last: the digest repository says it is published
        }
        published.put(top.digest(), cid);
        if (ipdrCid != null) {
            ipdrViews.put(top.digest(), ipdrCid);
        }
        publishes.update(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        return new Published(cid, top.digest(), Optional.ofNullable(ipdrCid));
    }

    /** The CID of the ipdr view of the image published for this manifest here, if there is one. */
    public Optional<Cid> ipdrCid(Digest digest) throws IOException {
        if (!digest.algorithm().equals("sha256")) {
            return Optional.empty();
        }
        Cid cached = ipdrViews.getIfPresent(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<Cid> view = node.filesStat(paths.ipdrImage(digest)).map(IpfsNode.FileStat::cid);
        view.ifPresent(cid -> ipdrViews.put(digest, cid));
        return view;
    }

    /** The publishes that finished (for metrics), with their durations. */
    public com.codahale.metrics.Timer publishes() {
        return publishes;
    }

    /** Forgets the CID published for a manifest (its copies were deleted). */
    void forget(Digest digest) {
        published.invalidate(digest);
        ipdrViews.invalidate(digest);
    }

    /** True when IPFS holds every manifest and blob of the image (so that it can be published). */
    public boolean isComplete(StoredManifest top) throws IOException {
        try {
            collect(top);
            return true;
        } catch (OciException e) {
            if (e.code() == OciErrorCode.MANIFEST_BLOB_UNKNOWN) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The CID published for a manifest digest here, if any: the CID tag of its digest repository
     * whose image is self-contained. disco, sharing the MFS root, replaces the digest repository
     * with its own copy when it publishes the same image, whose CID tag names disco's image (its
     * blobs are not linked inside, so pinning that CID would not pin them): then the CID is
     * computed again from the image, and reported when that image is here.
     */
    public Optional<Cid> publishedCid(Digest digest) throws IOException {
        Cid cached = published.getIfPresent(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        if (!digest.algorithm().equals("sha256")) {
            return Optional.empty();
        }
        try {
            for (IpfsNode.FileEntry tag : node.filesLs(paths.repository(digest.hex()) + "/_manifests/tags")) {
                if (tag.directory() && tag.name().startsWith("b") && Cid.isCid(tag.name())
                        && node.filesStat(paths.imageBlobs(tag.name())).isPresent()) {
                    Cid cid = Cid.parse(tag.name());
                    published.put(digest, cid);
                    return Optional.of(cid);
                }
            }
        } catch (IpfsNotFoundException e) {
            return Optional.empty();
        }
        return recomputedCid(digest);
    }

    /** The CID {@link #publish} gives the image of this top manifest, when that image is here; puts nothing. */
    private Optional<Cid> recomputedCid(Digest digest) throws IOException {
        Optional<StoredManifest> top = manifests.read(digest);
        Cid cid;
        try {
            if (top.isEmpty() || !isComplete(top.get())) {
                return Optional.empty();
            }
            cid = tree(digest, collect(top.get())).encode(new Blocks());
        } catch (OciException e) {
            return Optional.empty(); // not an image publish() would take: nothing was published for it
        }
        if (node.filesStat(paths.imageBlobs(cid.toString())).isEmpty()) {
            return Optional.empty();
        }
        published.put(digest, cid);
        return Optional.of(cid);
    }

    /**
     * Everything an image holds: manifests (top first), and config and layer blobs, in disco.json order;
     * and the pushed media types of manifests whose bytes do not say it. Non-distributable layers that
     * were never pushed are left out: clients fetch them from their urls.
     */
    private record Image(Map<Digest, BlobInfo> ordered, List<Digest> revisions, List<Digest> layers,
                         Map<Digest, String> mediaTypes) {
    }

    private Image collect(StoredManifest top) throws IOException {
        Map<Digest, BlobInfo> ordered = new LinkedHashMap<>();
        List<Digest> revisions = new ArrayList<>();
        List<Digest> layers = new ArrayList<>();
        Map<Digest, String> mediaTypes = new LinkedHashMap<>();
        collect(top, ordered, revisions, layers, mediaTypes, 0);
        return new Image(ordered, revisions, layers, mediaTypes);
    }

    private void collect(StoredManifest manifest, Map<Digest, BlobInfo> ordered, List<Digest> revisions,
                         List<Digest> layers, Map<Digest, String> mediaTypes, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "index nesting deeper than " + MAX_DEPTH);
        }
        if (!ordered.containsKey(manifest.digest())) {
            ordered.put(manifest.digest(), require(manifest.digest()));
        }
        if (!revisions.contains(manifest.digest())) {
            revisions.add(manifest.digest());
        }
        String mediaType = manifest.manifest().mediaTypeToRemember();
        if (mediaType != null) {
            mediaTypes.put(manifest.digest(), mediaType);
        }
        for (Descriptor blob : manifest.manifest().blobs()) {
            if (blob.isForeign() && !ordered.containsKey(blob.digest()) && blobs.stat(blob.digest()).isEmpty()) {
                continue;
            }
            if (!ordered.containsKey(blob.digest())) {
                ordered.put(blob.digest(), require(blob.digest()));
            }
            if (!layers.contains(blob.digest())) {
                layers.add(blob.digest());
            }
        }
        for (Descriptor child : manifest.manifest().manifests()) {
            StoredManifest stored = manifests.read(child.digest()).orElseThrow(() -> new OciException(
                    OciErrorCode.MANIFEST_BLOB_UNKNOWN, "manifest " + child.digest() + " is not stored"));
            collect(stored, ordered, revisions, layers, mediaTypes, depth + 1);
        }
    }

    private BlobInfo require(Digest digest) throws IOException {
        return blobs.stat(digest).orElseThrow(() -> new OciException(OciErrorCode.MANIFEST_BLOB_UNKNOWN,
                "blob " + digest + " is not stored"));
    }

    private Tree tree(Digest top, Image image) throws IOException {
        Tree root = new Tree();
        root.file("disco.json", discoJson(image));
        root.file("_manifests/tags/latest/current/link", link(top));
        root.file("_manifests/tags/latest/index/" + path(top) + "/link", link(top));
        for (Digest revision : image.revisions()) {
            root.file("_manifests/revisions/" + path(revision) + "/link", link(revision));
        }
        image.mediaTypes().forEach((revision, mediaType) -> root.file("_manifests/revisions/" + path(revision)
                + "/mediatype", mediaType.getBytes(StandardCharsets.UTF_8)));
        for (Digest layer : image.layers()) {
            root.file("_layers/" + path(layer) + "/link", link(layer));
        }
        for (BlobInfo blob : image.ordered().values()) {
            root.link("blobs/" + path(blob.digest()), new DagPb.Link(blob.digest().hex(), blob.cid(),
                    tsize(blob)));
        }
        return root;
    }

    /**
     * The image in ipdr's layout (docs/formats.md, "ipdr"), as links to the same blocks, so that ipdr's
     * server pulls it: {@code blobs/<alg>:<hex>} for every config and layer, {@code manifests/<alg>:<hex>}
     * for every manifest, and {@code manifests/latest}. ipdr reads no index, so for an index
     * {@code latest} is its linux/amd64 image (else its first image manifest). A tree of its own, not
     * entries of the published image: disco refuses to clone a directory with a colon in any name.
     */
    private Tree ipdrTree(StoredManifest top, Image image) throws IOException {
        Tree root = new Tree();
        for (Digest layer : image.layers()) {
            root.link("blobs/" + layer, entry(layer.toString(), image.ordered().get(layer)));
        }
        for (Digest revision : image.revisions()) {
            root.link("manifests/" + revision, entry(revision.toString(), image.ordered().get(revision)));
        }
        BlobInfo latest = image.ordered().get(ipdrLatest(top));
        root.link("manifests/latest", entry("latest", latest != null ? latest : image.ordered().get(top.digest())));
        return root;
    }

    private Digest ipdrLatest(StoredManifest top) throws IOException {
        if (!top.manifest().isIndex()) {
            return top.digest();
        }
        Optional<Digest> amd64 = LINUX_AMD64.pick(top.content());
        if (amd64.isPresent()) {
            return amd64.get();
        }
        for (Descriptor child : top.manifest().manifests()) {
            Optional<StoredManifest> stored = manifests.read(child.digest());
            if (stored.isPresent() && !stored.get().manifest().isIndex()) {
                return child.digest();
            }
        }
        return top.digest();
    }

    private DagPb.Link entry(String name, BlobInfo blob) throws IOException {
        return new DagPb.Link(name, blob.cid(), tsize(blob));
    }

    /** {@code <alg>/<hex>}: where a digest's entries live in the image directory (disco's layout for sha256). */
    private static String path(Digest digest) {
        return digest.algorithm() + "/" + digest.hex();
    }

    /**
     * {@code {"blobs":[{"digest":"<hex>","cid":"<cid>"},...]}}, byte for byte the same for the same image.
     * A sha256 digest is written as bare hex, as disco does; any other as {@code <alg>:<hex>}.
     */
    private static byte[] discoJson(Image image) {
        StringBuilder json = new StringBuilder("{\"blobs\":[");
        boolean first = true;
        for (BlobInfo blob : image.ordered().values()) {
            String digest = blob.digest().algorithm().equals("sha256") ? blob.digest().hex() : blob.digest().toString();
            json.append(first ? "" : ",").append("{\"digest\":\"").append(digest)
                    .append("\",\"cid\":\"").append(blob.cid()).append("\"}");
            first = false;
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] link(Digest digest) {
        return digest.toString().getBytes(StandardCharsets.UTF_8);
    }

    private long tsize(BlobInfo blob) throws IOException {
        Long cached = tsizes.getIfPresent(blob.cid());
        if (cached != null) {
            return cached;
        }
        long size = blob.cid().codec() == Cid.RAW ? blob.size() : UnixFs.cumulativeSize(node.blockGet(blob.cid()));
        tsizes.put(blob.cid(), size);
        return size;
    }

    private void place(Cid cid, String path) throws IOException {
        Optional<IpfsNode.FileStat> existing = node.filesStat(path);
        if (existing.isPresent()) {
            if (existing.get().cid().equals(cid)) {
                return;
            }
            // a different copy (another version's layout, or disco's): replace it with the published one
            node.filesRm(path);
        }
        try {
            node.filesCp("/ipfs/" + cid, path);
        } catch (IpfsException e) {
            Optional<IpfsNode.FileStat> raced = node.filesStat(path);
            if (raced.isEmpty() || !raced.get().cid().equals(cid)) {
                throw e;
            }
        }
    }

    /** Every block of the image directories, by CID: computed here, put once each. */
    private static final class Blocks {
        private final Map<Cid, byte[]> raw = new LinkedHashMap<>();
        private final Map<Cid, byte[]> dagPb = new LinkedHashMap<>();

        Cid raw(byte[] content) {
            Cid cid = Cid.sha256(Cid.RAW, Digest.ofBytes(content).bytes());
            raw.putIfAbsent(cid, content);
            return cid;
        }

        Cid dagPb(byte[] block) {
            Cid cid = UnixFs.cidOf(block);
            dagPb.putIfAbsent(cid, block);
            return cid;
        }
    }

    /** Puts the blocks in parallel; the node must report the CID computed here for each. */
    private void putAll(Blocks blocks) throws IOException {
        List<Future<?>> puts = new ArrayList<>(blocks.raw.size() + blocks.dagPb.size());
        blocks.raw.forEach((cid, content) -> puts.add(putThreads.submit(() -> put(cid, content, Cid.RAW))));
        blocks.dagPb.forEach((cid, content) -> puts.add(putThreads.submit(() -> put(cid, content, Cid.DAG_PB))));
        IOException failure = null;
        for (Future<?> put : puts) {
            try {
                put.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                puts.forEach(f -> f.cancel(true));
                throw new IpfsException(IpfsException.Kind.FAILED, "interrupted while publishing");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
                if (failure == null) {
                    failure = cause instanceof IOException io ? io
                            : new IpfsException(IpfsException.Kind.FAILED, "publishing: " + cause, cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private Void put(Cid expected, byte[] block, long codec) {
        try {
            Cid cid = node.blockPut(block, codec);
            if (!cid.equals(expected)) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "block/put returned " + cid + ", expected "
                        + expected);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directory being built: entries by name, each a small file, a link to an existing DAG, or a subdirectory. */
    private static final class Tree {
        private final Map<String, Object> entries = new TreeMap<>();

        void file(String path, byte[] content) {
            parent(path).entries.put(leaf(path), content);
        }

        void link(String path, DagPb.Link link) {
            parent(path).entries.put(leaf(path), link);
        }

        private Tree parent(String path) {
            Tree dir = this;
            String[] parts = path.split("/");
            for (int i = 0; i < parts.length - 1; i++) {
                dir = (Tree) dir.entries.computeIfAbsent(parts[i], k -> new Tree());
            }
            return dir;
        }

        private static String leaf(String path) {
            return path.substring(path.lastIndexOf('/') + 1);
        }

        /** Encodes this directory bottom-up into {@code blocks} and returns its CID; puts nothing. */
        Cid encode(Blocks blocks) {
            return encodeAs("", blocks).cid();
        }

        private DagPb.Link encodeAs(String name, Blocks blocks) {
            List<DagPb.Link> links = new ArrayList<>(entries.size());
            for (Map.Entry<String, Object> e : entries.entrySet()) {
                Object value = e.getValue();
                if (value instanceof Tree sub) {
                    links.add(sub.encodeAs(e.getKey(), blocks));
                } else if (value instanceof DagPb.Link link) {
                    links.add(new DagPb.Link(e.getKey(), link.cid(), link.size()));
                } else {
                    // disco.json of an image of about 1,800 blobs or more is over one chunk
                    UnixFs.FileBlocks file = UnixFs.smallFile((byte[]) value);
                    Cid cid = null;
                    for (byte[] leaf : file.leaves()) {
                        cid = blocks.raw(leaf);
                    }
                    if (file.node() != null) {
                        cid = blocks.dagPb(file.node());
                    }
                    links.add(new DagPb.Link(e.getKey(), cid, file.cumulativeSize()));
                }
            }
            UnixFs.Directory directory = UnixFs.directory(links, DIRECTORIES);
            Cid cid = null;
            for (byte[] block : directory.blocks()) {
                cid = blocks.dagPb(block);
            }
            return new DagPb.Link(name, cid, directory.cumulativeSize());
        }
    }
}
