package io.mirrorball.ui;

import io.mirrorball.oci.MediaTypes;

/** Short human names for the manifest media types. */
final class MediaTypeNames {
    private MediaTypeNames() {
    }

    static String of(String mediaType) {
        if (mediaType == null) {
            return "";
        }
        return switch (mediaType) {
            case MediaTypes.OCI_INDEX -> "OCI index";
            case MediaTypes.OCI_MANIFEST -> "OCI manifest";
            case MediaTypes.DOCKER_MANIFEST_LIST -> "Docker manifest list";
            case MediaTypes.DOCKER_MANIFEST -> "Docker manifest";
            default -> mediaType;
        };
    }
}
