package io.mirrorball.migrate.source;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import java.util.Objects;

/**
 * A manifest as the source holds it: its exact bytes (never re-serialised, so the digest does not
 * change), the media type it was served with, and its digest, already checked against the bytes.
 * At most {@link Manifest#MAX_BYTES}.
 */
public record Fetched(byte[] bytes, String mediaType, Digest digest) {
    public Fetched {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
    }

    /** The parsed manifest (the gateway's own parser: what the gateway would refuse is refused here). */
    public Manifest parse() {
        return Manifest.parse(bytes, mediaType);
    }
}
