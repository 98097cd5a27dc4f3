package io.mirrorball.oci;

import java.util.Map;

/** An OCI content descriptor. {@code artifactType} may be null; annotations are never null. */
public record Descriptor(String mediaType, Digest digest, long size, String artifactType,
                         Map<String, String> annotations) {
    public Descriptor {
        if (size < 0) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "negative size in descriptor of " + digest);
        }
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, null, Map.of());
    }
}
