package io.mirrorball.migrate.source;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An OCI image layout ({@code oci:DIR[:TAG]}): {@code index.json} and {@code blobs/<alg>/<hex>}.
 *
 * <p>With a tag, the image is the {@code index.json} entry whose
 * {@code org.opencontainers.image.ref.name} is the tag; otherwise every entry is an image, tagged by its
 * ref name (the part after the last {@code :} when the name is a full reference such as
 * {@code example.com/app:1.0}), or copied by digest when it has none. Every image goes to one
 * destination repository: the directory's base name in lower case, with characters outside
 * {@code [a-z0-9._-]} turned into {@code -} ({@code My Layout} gives {@code my-layout}; see
 * {@link #destinationName}); the CLI may override it.
 *
 * <p>Manifests are read whole (at most {@link Manifest#MAX_BYTES}) and checked against their digest;
 * blobs are checked against digest and size while they stream. Referrers are the manifests of the
 * layout (index entries and the children of indexes) whose {@code subject} is the digest.
 */
public final class OciLayoutSource implements Source {
    static final String REF_NAME = "org.opencontainers.image.ref.name";
    static final String CONTAINERD_IMAGE_NAME = "io.containerd.image.name";

    private final LayoutFiles files;
    private final String text;
    private final String destination;
    private final List<ImageTask> tasks;
    private final Map<String, Descriptor> byTag;
    private final List<Descriptor> entries;
    private Map<Digest, List<Descriptor>> referrers;

    private OciLayoutSource(LayoutFiles files, String text, String destination, List<ImageTask> tasks,
                            Map<String, Descriptor> byTag, List<Descriptor> entries) {
        this.files = files;
        this.text = text;
        this.destination = destination;
        this.tasks = tasks;
        this.byTag = byTag;
        this.entries = entries;
    }

    /** Opens the layout that {@code oci:DIR[:TAG]} names: NOT_FOUND without the directory, INVALID_SOURCE when its index.json is missing or corrupt. */
    public static OciLayoutSource open(SourceRef.OciLayout ref) throws IOException {
        if (!java.nio.file.Files.isDirectory(ref.directory())) {
            throw new MigrateException(FailureKind.NOT_FOUND, "no directory " + ref.directory());
        }
        return open(LayoutFiles.directory(ref.directory()), ref.text(), ref.tag(),
                destinationName(ref.directory()), false);
    }

    /** {@code oci:DIR[:TAG]} without a parsed reference. */
    public static OciLayoutSource open(Path directory, Optional<String> tag) throws IOException {
        String text = "oci:" + directory + tag.map(t -> ":" + t).orElse("");
        return open(new SourceRef.OciLayout(text, directory, tag));
    }

    /**
     * A layout over {@code files}. With {@code imageNames} (archives), an entry's
     * {@code io.containerd.image.name} ({@code docker save} writes it) gives its destination repository and tag.
     */
    static OciLayoutSource open(LayoutFiles files, String text, Optional<String> tag, String destination,
                                boolean imageNames) throws IOException {
        Manifest index = readIndex(files);
        Map<String, Descriptor> byTag = new LinkedHashMap<>();
        List<ImageTask> tasks = new ArrayList<>();
        for (Descriptor entry : index.manifests()) {
            String refName = entry.annotations().get(REF_NAME);
            Optional<ImageName> imageName = imageNames ? imageName(entry) : Optional.empty();
            Optional<String> entryTag = imageName.flatMap(n -> n.reference().asTag()).or(() -> tagOf(refName));
            String repository = imageName.map(ImageName::destinationRepository).orElse(destination);
            entryTag.ifPresent(t -> {
                byTag.putIfAbsent(repository + ":" + t, entry);
                byTag.putIfAbsent(t, entry);
            });
            if (tag.isPresent() && !(tag.get().equals(refName) || tag.equals(entryTag))) {
                continue;
            }
            Reference reference = entryTag.map(Reference::ofTag).orElse(Reference.ofDigest(entry.digest()));
            String source = tag.isPresent() ? text : text + (reference.isDigest() ? "@" : ":") + reference;
            tasks.add(new ImageTask(source, repository, reference, repository));
            if (tag.isPresent()) {
                byTag.put(tag.get(), entry);
                byTag.put(repository + ":" + tag.get(), entry);
                break;
            }
        }
        if (tag.isPresent() && tasks.isEmpty()) {
            throw new MigrateException(FailureKind.NOT_FOUND, files.describe() + " has no image tagged " + tag.get());
        }
        return new OciLayoutSource(files, text, destination, List.copyOf(tasks), Map.copyOf(byTag),
                index.manifests());
    }

    /**
     * The destination repository for a layout or archive: the file's base name in lower case, a
     * {@code .tar} ending dropped, characters outside {@code [a-z0-9._-]} turned into {@code -}, runs of
     * separators into one {@code -}, separators at the ends dropped; {@code image} when nothing is left.
     */
    public static String destinationName(Path path) {
        Path name = path.toAbsolutePath().normalize().getFileName();
        String base = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
        if (base.endsWith(".tar")) {
            base = base.substring(0, base.length() - 4);
        }
        String cleaned = base.replaceAll("[^a-z0-9._-]", "-").replaceAll("[._-]{2,}", "-")
                .replaceAll("^[._-]+|[._-]+$", "");
        if (cleaned.length() > RepositoryName.MAX_LENGTH) {
            cleaned = cleaned.substring(0, RepositoryName.MAX_LENGTH).replaceAll("[._-]+$", "");
        }
        return RepositoryName.isValid(cleaned) ? cleaned : "image";
    }

    @Override
    public Iterator<ImageTask> images() {
        return tasks.iterator();
    }

    /** The images, as a list. */
    public List<ImageTask> tasks() {
        return tasks;
    }

    @Override
    public Fetched manifest(String repository, Reference reference) throws IOException {
        Digest digest;
        long size = -1;
        if (reference.isDigest()) {
            digest = reference.digest();
        } else {
            Descriptor entry = byTag.getOrDefault(repository + ":" + reference.tag(), byTag.get(reference.tag()));
            if (entry == null) {
                throw new MigrateException(FailureKind.NOT_FOUND, files.describe() + " has no image tagged " + reference.tag());
            }
            digest = entry.digest();
            size = entry.size();
        }
        return readManifest(digest, size);
    }

    private Fetched readManifest(Digest digest, long size) throws IOException {
        byte[] bytes;
        try (InputStream in = files.open(blobPath(digest))) {
            bytes = in.readNBytes(Manifest.MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "manifest " + digest + " is missing from "
                    + files.describe());
        }
        if (bytes.length > Manifest.MAX_BYTES) {
            throw new MigrateException(FailureKind.UNSUPPORTED, "manifest " + digest + " in " + files.describe()
                    + " is over the limit of " + Manifest.MAX_BYTES + " bytes");
        }
        Digest actual = Digest.of(digest.algorithm(), bytes);
        if (!actual.equals(digest) || size >= 0 && size != bytes.length) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "manifest " + digest + " in " + files.describe()
                    + " does not match its digest or size");
        }
        try {
            return new Fetched(bytes, Manifest.parse(bytes, null).mediaType(), digest);
        } catch (OciException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "manifest " + digest + " in " + files.describe()
                    + ": " + e.getMessage());
        }
    }

    @Override
    public BlobStream blob(String repository, Descriptor blob, long offset) throws IOException {
        InputStream in;
        try {
            in = files.open(blobPath(blob.digest()));
        } catch (NoSuchFileException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "blob " + blob.digest() + " is missing from "
                    + files.describe());
        }
        try {
            return new BlobStream(VerifyingInputStream.open(in, blob.digest(), blob.size(), offset,
                    "blob " + blob.digest() + " in " + files.describe()), offset);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    @Override
    public synchronized List<Descriptor> referrers(String repository, Digest subject) throws IOException {
        if (referrers == null) {
            referrers = scanReferrers();
        }
        return referrers.getOrDefault(subject, List.of());
    }

    private Map<Digest, List<Descriptor>> scanReferrers() throws IOException {
        Map<Digest, List<Descriptor>> found = new LinkedHashMap<>();
        Deque<Descriptor> pending = new ArrayDeque<>(entries);
        Set<Digest> seen = new HashSet<>();
        while (!pending.isEmpty()) {
            Descriptor d = pending.removeFirst();
            if (!seen.add(d.digest())) {
                continue;
            }
            Fetched fetched = readManifest(d.digest(), d.size());
            Manifest manifest = fetched.parse();
            if (manifest.isIndex()) {
                pending.addAll(manifest.manifests());
            }
            if (manifest.subject() != null) {
                found.computeIfAbsent(manifest.subject().digest(), k -> new ArrayList<>()).add(new Descriptor(
                        fetched.mediaType(), fetched.digest(), fetched.bytes().length,
                        manifest.effectiveArtifactType(), manifest.annotations()));
            }
        }
        Map<Digest, List<Descriptor>> result = new LinkedHashMap<>();
        found.forEach((k, v) -> result.put(k, List.copyOf(v)));
        return result;
    }

    @Override
    public void close() throws IOException {
        files.close();
    }

    @Override
    public String toString() {
        return text + " -> " + destination;
    }

    static String blobPath(Digest digest) {
        return "blobs/" + digest.algorithm() + "/" + digest.hex();
    }

    private static Manifest readIndex(LayoutFiles files) throws IOException {
        byte[] bytes;
        try (InputStream in = files.open("index.json")) {
            bytes = in.readNBytes(Manifest.MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, files.describe()
                    + " is not an OCI image layout: it has no index.json");
        }
        try {
            Manifest index = Manifest.parse(bytes, null);
            if (!index.isIndex()) {
                throw new OciException(io.mirrorball.oci.OciErrorCode.MANIFEST_INVALID, "it is not an image index");
            }
            return index;
        } catch (OciException e) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, "index.json of " + files.describe()
                    + " is corrupt: " + e.getMessage());
        }
    }

    private static Optional<String> tagOf(String refName) {
        if (refName == null) {
            return Optional.empty();
        }
        if (Reference.isTag(refName)) {
            return Optional.of(refName);
        }
        int colon = refName.lastIndexOf(':');
        if (colon > refName.lastIndexOf('/') && Reference.isTag(refName.substring(colon + 1))) {
            return Optional.of(refName.substring(colon + 1));
        }
        return Optional.empty();
    }

    private static Optional<ImageName> imageName(Descriptor entry) {
        String name = entry.annotations().get(CONTAINERD_IMAGE_NAME);
        if (name == null) {
            return Optional.empty();
        }
        try {
            ImageName image = ImageName.parse(name);
            return image.reference().isDigest() ? Optional.empty() : Optional.of(image);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
