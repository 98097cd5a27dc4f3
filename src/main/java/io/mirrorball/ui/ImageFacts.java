package io.mirrorball.ui;

import io.mirrorball.oci.Digest;
import java.util.List;

/**
 * What the page says about one image, by its top manifest's digest: immutable, so cached without expiry.
 *
 * @param size      the bytes a pull fetches: the manifest, its config and layers (for an index, every
 *                  child's too, a blob shared by children counted once); -1 when not all are known here
 * @param platforms {@code os/architecture[/variant]} of each image, in index order
 */
public record ImageFacts(Digest digest, String mediaType, List<String> platforms, long size) {
    public ImageFacts {
        platforms = List.copyOf(platforms);
    }

    /** The media type without its vendor prefix, as people say it ("oci image index", "docker manifest list"). */
    public String kind() {
        return MediaTypeNames.of(mediaType);
    }

    public String platformsText() {
        return platforms.isEmpty() ? "" : String.join(", ", platforms);
    }

    public String sizeText() {
        return size < 0 ? "" : io.mirrorball.migrate.progress.Units.bytes(size);
    }
}
