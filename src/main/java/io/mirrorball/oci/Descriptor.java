package io.mirrorball.oci;

import java.util.List;
import java.util.Map;

/**
 * An OCI content descriptor. {@code artifactType} may be null; annotations and urls are never null.
 * A descriptor with {@code urls} is a non-distributable layer: its blob may live only at those URLs.
 */
public record Descriptor(String mediaType, Digest digest, long size, String artifactType,
                         Map<String, String> annotations, List<String> urls) {
    public Descriptor {
        if (size < 0) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "negative size in descriptor of " + digest);
        }
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        urls = urls == null ? List.of() : List.copyOf(urls);
    }

    public Descriptor(String mediaType, Digest digest, long size, String artifactType,
                      Map<String, String> annotations) {
        this(mediaType, digest, size, artifactType, annotations, List.of());
    }

    /** True for a non-distributable layer (one with {@code urls}), whose blob a registry need not hold. */
    public boolean isForeign() {
        return !urls.isEmpty();
    }

    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, null, Map.of());
    }
}
