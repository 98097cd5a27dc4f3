package io.mirrorball.migrate.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code docker save} archive ({@code docker-archive:FILE}), an uncompressed tar read in place.
 *
 * <p>When the archive has {@code index.json} (Docker 25 and later, or any OCI layout in a tar), it is
 * an OCI layout ({@link OciLayoutSource}) and its manifests are copied byte for byte. Otherwise each
 * {@code manifest.json} entry becomes a generated, canonical (compact JSON) Docker schema 2 manifest:
 * the config is the entry's config file, the layers its layer tars, uncompressed
 * ({@value #LAYER_TAR}), whose digests are the config's {@code rootfs.diff_ids}, checked while they
 * stream. The same archive always gives the same manifest, but not the one {@code docker push} would
 * make (it gzips layers), so the digest and CID differ from a pushed image's.
 *
 * <p>Images are tagged by their {@code RepoTags} ({@code alpine:3.19} goes to repository {@code alpine},
 * tag {@code 3.19}; Docker Hub's {@code library/} dropped); an image without one is copied by digest
 * into the repository named after the file ({@link OciLayoutSource#destinationName}). A gzip-compressed
 * file is INVALID_SOURCE "compressed archive: gunzip it first", as is a truncated or corrupt tar.
 */
public final class DockerArchiveSource implements Source {
    static final String LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TarEntries files;
    private final List<ImageTask> tasks;
    private final Map<String, Fetched> byTag;
    private final Map<Digest, Fetched> byDigest;
    private final Map<Digest, String> blobPaths;

    private DockerArchiveSource(TarEntries files, List<ImageTask> tasks, Map<String, Fetched> byTag,
                                Map<Digest, Fetched> byDigest, Map<Digest, String> blobPaths) {
        this.files = files;
        this.tasks = tasks;
        this.byTag = byTag;
        this.byDigest = byDigest;
        this.blobPaths = blobPaths;
    }

    /**
     * Opens the archive: an {@link OciLayoutSource} over the tar when it holds {@code index.json}, else
     * a source of generated Docker schema 2 manifests from {@code manifest.json}.
     */
    public static Source open(SourceRef.DockerArchive ref) throws IOException {
        TarEntries files = TarEntries.open(ref.file());
        try {
            String destination = OciLayoutSource.destinationName(ref.file());
            if (files.has("index.json")) {
                return OciLayoutSource.open(files, ref.text(), Optional.empty(), destination, true);
            }
            return fromManifestJson(files, ref.text(), destination);
        } catch (IOException | RuntimeException e) {
            files.close();
            throw e;
        }
    }

    private static DockerArchiveSource fromManifestJson(TarEntries files, String text, String destination)
            throws IOException {
        JsonNode manifestJson = readJson(files, "manifest.json", files.describe()
                + " is not a docker save archive: it has neither index.json nor manifest.json");
        if (!manifestJson.isArray() || manifestJson.isEmpty()) {
            throw invalid("manifest.json of " + files.describe() + " lists no images");
        }
        List<ImageTask> tasks = new ArrayList<>();
        Map<String, Fetched> byTag = new HashMap<>();
        Map<Digest, Fetched> byDigest = new HashMap<>();
        Map<Digest, String> blobPaths = new HashMap<>();
        for (int i = 0; i < manifestJson.size(); i++) {
            JsonNode image = manifestJson.get(i);
            String where = "manifest.json[" + i + "] of " + files.describe();
            String configPath = textField(image, "Config", where);
            byte[] config = readCapped(files, configPath, where);
            Digest configDigest = Digest.ofBytes(config);
            JsonNode diffIds = parse(config, where + ": config " + configPath).path("rootfs").path("diff_ids");
            JsonNode layers = image.get("Layers");
            if (layers == null || !layers.isArray() || !diffIds.isArray() || layers.size() != diffIds.size()) {
                throw invalid(where + ": its Layers do not match the config's rootfs.diff_ids");
            }
            StringBuilder manifest = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"")
                    .append(MediaTypes.DOCKER_MANIFEST).append("\",\"config\":");
            descriptor(manifest, MediaTypes.DOCKER_CONFIG, config.length, configDigest).append(",\"layers\":[");
            blobPaths.put(configDigest, configPath);
            for (int l = 0; l < layers.size(); l++) {
                String layerPath = layers.get(l).asText();
                Digest diffId = digest(diffIds.get(l).asText(), where);
                long size;
                try {
                    size = files.size(layerPath);
                } catch (NoSuchFileException e) {
                    throw invalid(where + ": layer " + layerPath + " is missing");
                }
                descriptor(manifest.append(l == 0 ? "" : ","), LAYER_TAR, size, diffId);
                blobPaths.put(diffId, layerPath);
            }
            byte[] bytes = manifest.append("]}").toString().getBytes(StandardCharsets.UTF_8);
            Fetched fetched = new Fetched(bytes, MediaTypes.DOCKER_MANIFEST, Digest.ofBytes(bytes));
            byDigest.put(fetched.digest(), fetched);
            JsonNode repoTags = image.path("RepoTags");
            boolean tagged = false;
            for (JsonNode repoTag : repoTags.isArray() ? repoTags : JSON.createArrayNode()) {
                ImageName name;
                try {
                    name = ImageName.parse(repoTag.asText());
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (name.reference().isDigest()) {
                    continue;
                }
                String repository = name.destinationRepository();
                byTag.put(repository + ":" + name.reference().tag(), fetched);
                tasks.add(new ImageTask(text + ":" + repoTag.asText(), repository, name.reference(), repository));
                tagged = true;
            }
            if (!tagged) {
                tasks.add(new ImageTask(text + "@" + fetched.digest(), destination,
                        Reference.ofDigest(fetched.digest()), destination));
            }
        }
        return new DockerArchiveSource(files, List.copyOf(tasks), Map.copyOf(byTag), Map.copyOf(byDigest),
                Map.copyOf(blobPaths));
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
    public Fetched manifest(String repository, Reference reference) {
        Fetched fetched = reference.isDigest() ? byDigest.get(reference.digest())
                : byTag.get(repository + ":" + reference.tag());
        if (fetched == null) {
            throw new MigrateException(FailureKind.NOT_FOUND, files.describe() + " has no image " + repository
                    + (reference.isDigest() ? "@" : ":") + reference);
        }
        return fetched;
    }

    @Override
    public BlobStream blob(String repository, Descriptor blob, long offset) throws IOException {
        String path = blobPaths.get(blob.digest());
        if (path == null) {
            throw invalid("blob " + blob.digest() + " is not in " + files.describe());
        }
        InputStream in = files.open(path);
        try {
            return new BlobStream(VerifyingInputStream.open(in, blob.digest(), blob.size(), offset,
                    "blob " + blob.digest() + " (" + path + ") in " + files.describe()), offset);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** A {@code manifest.json} archive has no referrers. */
    @Override
    public List<Descriptor> referrers(String repository, Digest subject) {
        return List.of();
    }

    @Override
    public void close() throws IOException {
        files.close();
    }

    private static StringBuilder descriptor(StringBuilder out, String mediaType, long size, Digest digest) {
        return out.append("{\"mediaType\":\"").append(mediaType).append("\",\"size\":").append(size)
                .append(",\"digest\":\"").append(digest).append("\"}");
    }

    private static JsonNode readJson(TarEntries files, String path, String missing) throws IOException {
        if (!files.has(path)) {
            throw invalid(missing);
        }
        return parse(readCapped(files, path, files.describe()), path + " of " + files.describe());
    }

    private static byte[] readCapped(TarEntries files, String path, String where) throws IOException {
        try (InputStream in = files.open(path)) {
            byte[] bytes = in.readNBytes(Manifest.MAX_BYTES + 1);
            if (bytes.length > Manifest.MAX_BYTES) {
                throw new MigrateException(FailureKind.UNSUPPORTED, where + ": " + path + " is over "
                        + Manifest.MAX_BYTES + " bytes");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw invalid(where + ": " + path + " is missing");
        }
    }

    private static JsonNode parse(byte[] bytes, String where) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw invalid(where + " is not valid JSON");
        }
    }

    private static String textField(JsonNode node, String field, String where) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || !value.isTextual()) {
            throw invalid(where + " has no " + field);
        }
        return value.asText();
    }

    private static Digest digest(String text, String where) {
        if (!Digest.isDigest(text)) {
            throw invalid(where + ": invalid diff_id " + text);
        }
        return Digest.parse(text);
    }

    private static MigrateException invalid(String message) {
        return new MigrateException(FailureKind.INVALID_SOURCE, message);
    }
}
