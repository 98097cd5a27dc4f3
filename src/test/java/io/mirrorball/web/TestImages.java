package io.mirrorball.web;

import io.mirrorball.oci.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Builds manifests, indexes and artifacts as bytes for the API tests. The JSON is written by hand,
 * indented and with a trailing newline, so a registry that re-serialises instead of storing the
 * pushed bytes is caught.
 */
final class TestImages {
    static final String EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    private TestImages() {
    }

    record Blob(String mediaType, byte[] content) {
        String digest() {
            return RegistryClient.digestOf(content);
        }

        long size() {
            return content.length;
        }

        String descriptor() {
            return TestImages.descriptor(mediaType, digest(), size());
        }
    }

    /** A manifest (or index) as pushed, with the blobs it needs (children of an index are pushed separately). */
    record Image(String mediaType, byte[] manifest, List<Blob> blobs) {
        String digest() {
            return RegistryClient.digestOf(manifest);
        }

        long size() {
            return manifest.length;
        }

        String descriptor() {
            return TestImages.descriptor(mediaType, digest(), size());
        }

        String text() {
            return new String(manifest, StandardCharsets.UTF_8);
        }
    }

    static String descriptor(String mediaType, String digest, long size) {
        return "{\n      \"mediaType\": \"" + mediaType + "\",\n      \"digest\": \"" + digest
                + "\",\n      \"size\": " + size + "\n   }";
    }

    static Blob config(String mediaType) {
        String json = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
                + "\"config\":{\"Labels\":{\"test\":\"" + UUID.randomUUID() + "\"}}}";
        return new Blob(mediaType, json.getBytes(StandardCharsets.UTF_8));
    }

    static Blob layer(String mediaType, int size) {
        return new Blob(mediaType, RegistryClient.randomBytes(size));
    }

    static Blob emptyConfig() {
        return new Blob(MediaTypes.OCI_EMPTY, "{}".getBytes(StandardCharsets.UTF_8));
    }

    static Image ociImage(int layers) {
        return image(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_CONFIG, MediaTypes.OCI_LAYER_TAR_GZIP, layers);
    }

    static Image dockerImage(int layers) {
        return image(MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_CONFIG, MediaTypes.DOCKER_LAYER, layers);
    }

    private static Image image(String mediaType, String configType, String layerType, int layers) {
        Blob config = config(configType);
        List<Blob> layerBlobs = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            layerBlobs.add(layer(layerType, 1000 + 517 * i));
        }
        return manifest(mediaType, config, layerBlobs, "");
    }

    /** An image manifest; {@code extraFields} is inserted verbatim (e.g. {@code "subject": {...},}). */
    static Image manifest(String mediaType, Blob config, List<Blob> layers, String extraFields) {
        StringBuilder json = new StringBuilder("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"")
                .append(mediaType).append("\",\n").append(extraFields)
                .append("   \"config\": ").append(config.descriptor()).append(",\n   \"layers\": [");
        for (int i = 0; i < layers.size(); i++) {
            json.append(i == 0 ? "\n   " : ",\n   ").append(layers.get(i).descriptor());
        }
        json.append(layers.isEmpty() ? "]\n}\n" : "\n   ]\n}\n");
        List<Blob> blobs = new ArrayList<>();
        blobs.add(config);
        blobs.addAll(layers);
        return new Image(mediaType, json.toString().getBytes(StandardCharsets.UTF_8), List.copyOf(blobs));
    }

    /** An index (OCI or Docker list) over already built children, each with a platform. */
    static Image index(String mediaType, List<Image> children) {
        return index(mediaType, children, "");
    }

    static Image index(String mediaType, List<Image> children, String extraFields) {
        String[] arches = {"amd64", "arm64", "s390x", "ppc64le", "riscv64"};
        StringBuilder json = new StringBuilder("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"")
                .append(mediaType).append("\",\n").append(extraFields).append("   \"manifests\": [");
        for (int i = 0; i < children.size(); i++) {
            Image child = children.get(i);
            json.append(i == 0 ? "\n      " : ",\n      ")
                    .append("{\"mediaType\": \"").append(child.mediaType()).append("\", \"digest\": \"")
                    .append(child.digest()).append("\", \"size\": ").append(child.size())
                    .append(", \"platform\": {\"architecture\": \"").append(arches[i % arches.length])
                    .append("\", \"os\": \"linux\"}}");
        }
        json.append(children.isEmpty() ? "]\n}\n" : "\n   ]\n}\n");
        return new Image(mediaType, json.toString().getBytes(StandardCharsets.UTF_8), List.of());
    }

    /**
     * An OCI artifact manifest referring to {@code subject}: empty config unless {@code configType}
     * is given, one small layer, and optional artifactType and annotations.
     */
    static Image artifact(Image subject, String artifactType, Map<String, String> annotations, String configType) {
        return artifact(subject.descriptor(), artifactType, annotations, configType);
    }

    static Image artifact(String subjectDescriptor, String artifactType, Map<String, String> annotations,
                          String configType) {
        StringBuilder extra = new StringBuilder();
        if (artifactType != null) {
            extra.append("   \"artifactType\": \"").append(artifactType).append("\",\n");
        }
        extra.append("   \"subject\": ").append(subjectDescriptor).append(",\n");
        if (annotations != null && !annotations.isEmpty()) {
            extra.append("   \"annotations\": {");
            String sep = "";
            for (Map.Entry<String, String> e : annotations.entrySet()) {
                extra.append(sep).append('"').append(e.getKey()).append("\": \"").append(e.getValue()).append('"');
                sep = ", ";
            }
            extra.append("},\n");
        }
        Blob config = configType == null ? emptyConfig() : new Blob(configType, ("{\"n\":\"" + UUID.randomUUID() + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        Blob payload = layer("application/vnd.example.payload", 300);
        return manifest(MediaTypes.OCI_MANIFEST, config, List.of(payload), extra.toString());
    }
}
