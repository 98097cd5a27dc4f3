package io.mirrorball.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Builds an OCI image layout directory on disk (oci-layout, index.json, blobs/sha256/...) for
 * end-to-end tests and benchmarks. Each layer is a real tar archive holding one file of
 * deterministic pseudo-random bytes, optionally gzip-compressed; it is streamed to disk and never
 * held in memory. The same arguments always give the same digests.
 * <p>Note: skopeo gzips plain tar layers when it pushes to a registry (docker:// destinations), so the
 * manifest digest changes on the way; use gzip layers where a registry round trip must keep digests.
 *
 * <pre>
 * OciLayoutBuilder.Image image = OciLayoutBuilder.at(dir)
 *         .layer(3 &lt;&lt; 20, true).layer(1 &lt;&lt; 20, false).layer(512 &lt;&lt; 10, true)
 *         .build("v1");
 * // skopeo copy oci:DIR:v1 docker://...
 * </pre>
 */
public final class OciLayoutBuilder {
    public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    private static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TAR_BLOCK = 512;

    private final Path dir;
    private final List<LayerSpec> layers = new ArrayList<>();
    private long seed = 1;

    /** The recipe of one layer: about {@code size} bytes of content from {@code seed}. */
    public record LayerSpec(long size, boolean gzip, long seed) {
        public LayerSpec {
            if (size < 0) {
                throw new IllegalArgumentException("layer size must be >= 0: " + size);
            }
        }
    }

    /** One written blob. {@code diffId} is the digest of the uncompressed tar (equal to digest when plain). */
    public record Blob(Digest digest, long size, String mediaType, Digest diffId) {
    }

    /** One image: its manifest (and where it is in the layout), config and layers. */
    public record Image(Path dir, String tag, String platform, Blob manifest, Blob config, List<Blob> layers) {
        public Image {
            layers = List.copyOf(layers);
        }

        public Digest manifestDigest() {
            return manifest.digest();
        }

        public List<Digest> layerDigests() {
            return layers.stream().map(Blob::digest).toList();
        }

        /** Sum of the config and layer sizes. */
        public long totalBlobBytes() {
            return config.size() + layers.stream().mapToLong(Blob::size).sum();
        }

        /** {@code oci:<dir>:<tag>} for skopeo. */
        public String skopeoRef() {
            return "oci:" + dir + ":" + tag;
        }
    }

    /** A multi-arch image: an OCI index over one manifest per platform. */
    public record MultiArch(Path dir, String tag, Blob index, List<Image> platforms) {
        public MultiArch {
            platforms = List.copyOf(platforms);
        }

        public Digest indexDigest() {
            return index.digest();
        }

        public String skopeoRef() {
            return "oci:" + dir + ":" + tag;
        }
    }

    private OciLayoutBuilder(Path dir) {
        this.dir = dir;
    }

    /** A builder writing into {@code dir} (created when missing; other images in it are kept). */
    public static OciLayoutBuilder at(Path dir) {
        return new OciLayoutBuilder(dir.toAbsolutePath());
    }

    /** Sets the seed of the next layers (default 1); images with other seeds get other digests. */
    public OciLayoutBuilder seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Adds a layer whose tar holds one file of {@code size} pseudo-random bytes. */
    public OciLayoutBuilder layer(long size, boolean gzip) {
        layers.add(new LayerSpec(size, gzip, seed * 1_000_003L + layers.size()));
        return this;
    }

    /** Adds {@code count} layers that together hold about {@code totalSize} bytes. */
    public OciLayoutBuilder layers(int count, long totalSize, boolean gzip) {
        for (int i = 0; i < count; i++) {
            layer(totalSize / count, gzip);
        }
        return this;
    }

    /** Writes the layers, a config and a linux/amd64 manifest, and tags it {@code tag} in index.json. */
    public Image build(String tag) {
        try {
            prepareLayout();
            Image image = writeImage(tag, "linux", "amd64", layers);
            addToIndex(tag, image.manifest());
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("build OCI layout in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes a multi-arch image: an OCI index with a linux/amd64 and a linux/arm64 manifest, each with
     * its own layers (same sizes as the layers added to this builder, different bytes), tagged {@code tag}.
     */
    public MultiArch buildMultiArch(String tag) {
        try {
            prepareLayout();
            List<Image> platforms = new ArrayList<>();
            String[] arches = {"amd64", "arm64"};
            for (int a = 0; a < arches.length; a++) {
                List<LayerSpec> specs = new ArrayList<>();
                for (LayerSpec spec : layers) {
                    specs.add(new LayerSpec(spec.size(), spec.gzip(), spec.seed() * 31 + a + 7));
                }
                platforms.add(writeImage(tag, "linux", arches[a], specs));
            }
            ObjectNode index = JSON.createObjectNode();
            index.put("schemaVersion", 2);
            index.put("mediaType", MediaTypes.OCI_INDEX);
            ArrayNode manifests = index.putArray("manifests");
            for (Image image : platforms) {
                ObjectNode descriptor = descriptor(image.manifest());
                String[] osArch = image.platform().split("/");
                ObjectNode platform = descriptor.putObject("platform");
                platform.put("architecture", osArch[1]);
                platform.put("os", osArch[0]);
                manifests.add(descriptor);
            }
            Blob indexBlob = writeJsonBlob(index, MediaTypes.OCI_INDEX);
            addToIndex(tag, indexBlob);
            return new MultiArch(dir, tag, indexBlob, platforms);
        } catch (IOException e) {
            throw new UncheckedIOException("build multi-arch OCI layout in " + dir + ": " + e.getMessage(), e);
        }
    }

    private void prepareLayout() throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        if (!Files.exists(dir.resolve("index.json"))) {
            ObjectNode index = JSON.createObjectNode();
            index.put("schemaVersion", 2);
            index.put("mediaType", MediaTypes.OCI_INDEX);
            index.putArray("manifests");
            Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
        }
    }

    private Image writeImage(String tag, String os, String arch, List<LayerSpec> specs) throws IOException {
        List<Blob> written = new ArrayList<>();
        for (LayerSpec spec : specs) {
            written.add(writeLayer(spec));
        }
        ObjectNode config = JSON.createObjectNode();
        config.put("created", "2024-01-01T00:00:00Z");
        config.put("architecture", arch);
        config.put("os", os);
        config.putObject("config").putArray("Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        ArrayNode history = config.putArray("history");
        for (Blob layer : written) {
            diffIds.add(layer.diffId().toString());
            history.addObject().put("created", "2024-01-01T00:00:00Z").put("created_by", "OciLayoutBuilder");
        }
        Blob configBlob = writeJsonBlob(config, MediaTypes.OCI_CONFIG);

        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", descriptor(configBlob));
        ArrayNode layerArray = manifest.putArray("layers");
        for (Blob layer : written) {
            layerArray.add(descriptor(layer));
        }
        Blob manifestBlob = writeJsonBlob(manifest, MediaTypes.OCI_MANIFEST);
        return new Image(dir, tag, os + "/" + arch, manifestBlob, configBlob, written);
    }

    private static ObjectNode descriptor(Blob blob) {
        ObjectNode node = JSON.createObjectNode();
        node.put("mediaType", blob.mediaType());
        node.put("digest", blob.digest().toString());
        node.put("size", blob.size());
        return node;
    }

    private Blob writeJsonBlob(ObjectNode node, String mediaType) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(node);
        Digest digest = Digest.ofBytes(bytes);
        Files.write(blobPath(digest), bytes);
        return new Blob(digest, bytes.length, mediaType, digest);
    }

    /** Replaces any entry tagged {@code tag} in index.json with {@code blob}. */
    private void addToIndex(String tag, Blob blob) throws IOException {
        Path indexFile = dir.resolve("index.json");
        ObjectNode index = (ObjectNode) JSON.readTree(indexFile.toFile());
        ArrayNode old = (ArrayNode) index.get("manifests");
        ArrayNode manifests = JSON.createArrayNode();
        old.forEach(entry -> {
            if (!tag.equals(entry.path("annotations").path(REF_NAME).asText())) {
                manifests.add(entry);
            }
        });
        ObjectNode descriptor = descriptor(blob);
        descriptor.putObject("annotations").put(REF_NAME, tag);
        manifests.add(descriptor);
        index.set("manifests", manifests);
        Path tmp = Files.createTempFile(dir, "index", ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(index));
        Files.move(tmp, indexFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path blobPath(Digest digest) {
        return dir.resolve("blobs/sha256").resolve(digest.hex());
    }

    /** Streams tar (and gzip) bytes to a temp file while digesting both forms, then moves it in place. */
    private Blob writeLayer(LayerSpec spec) throws IOException {
        Path tmp = Files.createTempFile(dir.resolve("blobs"), "layer", ".tmp");
        MessageDigest blobSha = Digest.newSha256();
        MessageDigest tarSha = Digest.newSha256();
        CountingOutputStream counted;
        try (OutputStream file = Files.newOutputStream(tmp);
             OutputStream buffered = new BufferedOutputStream(file, 1 << 16);
             CountingOutputStream counting = new CountingOutputStream(new DigestOutputStream(buffered, blobSha));
             OutputStream compressed = spec.gzip() ? new FastGzipOutputStream(counting) : new NonClosing(counting);
             OutputStream tar = new DigestOutputStream(compressed, tarSha)) {
            counted = counting;
            writeTar(tar, "data/layer-" + Long.toHexString(spec.seed()) + ".bin", spec.size(), spec.seed());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Digest digest = Digest.sha256(blobSha.digest());
        Digest diffId = Digest.sha256(tarSha.digest());
        Files.move(tmp, blobPath(digest), StandardCopyOption.REPLACE_EXISTING);
        return new Blob(digest, counted.count(),
                spec.gzip() ? MediaTypes.OCI_LAYER_TAR_GZIP : OCI_LAYER_TAR, diffId);
    }

    /** A ustar archive with one regular file of {@code size} pseudo-random bytes. */
    static void writeTar(OutputStream out, String name, long size, long seed) throws IOException {
        out.write(tarHeader(name, size));
        SplittableRandom random = new SplittableRandom(seed);
        byte[] buffer = new byte[1 << 16];
        long remaining = size;
        while (remaining > 0) {
            int n = (int) Math.min(buffer.length, remaining);
            for (int i = 0; i < n; i += 8) {
                long value = random.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) {
                    buffer[i + j] = (byte) (value >>> (8 * j));
                }
            }
            out.write(buffer, 0, n);
            remaining -= n;
        }
        int padding = (int) ((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
        out.write(new byte[padding + 2 * TAR_BLOCK]);
    }

    private static byte[] tarHeader(String name, long size) {
        byte[] header = new byte[TAR_BLOCK];
        put(header, 0, 100, name);
        put(header, 100, 8, "0000644");
        put(header, 108, 8, "0000000");
        put(header, 116, 8, "0000000");
        put(header, 124, 12, String.format("%011o", size));
        put(header, 136, 12, String.format("%011o", 1_704_067_200L)); // 2024-01-01
        Arrays.fill(header, 148, 156, (byte) ' ');
        header[156] = '0';
        put(header, 257, 6, "ustar");
        put(header, 263, 2, "00");
        put(header, 265, 32, "root");
        put(header, 297, 32, "root");
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, 8, String.format("%06o", sum));
        header[155] = ' ';
        return header;
    }

    private static void put(byte[] header, int offset, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length > length) {
            throw new IllegalArgumentException("tar field too long: " + value);
        }
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    /** gzip at the fastest level: the content is random, compression would only cost time. */
    private static final class FastGzipOutputStream extends GZIPOutputStream {
        FastGzipOutputStream(OutputStream out) throws IOException {
            super(new NonClosing(out), 1 << 16);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }

    /** Keeps the outer try-with-resources in charge of closing the file. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    private static final class CountingOutputStream extends FilterOutputStream {
        private long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        long count() {
            return count;
        }
    }
}
