package io.mirrorball.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * A {@code --platform OS/ARCH[/VARIANT]} choice, and the child of an index it picks: the first entry
 * whose {@code platform} has that os and architecture (and variant, when one is given).
 */
public record Platform(String os, String architecture, String variant) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses {@code linux/amd64} or {@code linux/arm/v7}; IllegalArgumentException otherwise. */
    public static Platform parse(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split("/", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()
                || parts.length == 3 && parts[2].isEmpty()) {
            throw new IllegalArgumentException("--platform must be OS/ARCH or OS/ARCH/VARIANT, not '" + text + "'");
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }

    /** The digest of the index's child for this platform, if it has one. */
    public Optional<Digest> pick(byte[] index) {
        JsonNode root;
        try {
            root = JSON.readTree(index);
        } catch (IOException e) {
            return Optional.empty();
        }
        for (JsonNode child : root.path("manifests")) {
            JsonNode platform = child.path("platform");
            if (os.equals(platform.path("os").asText()) && architecture.equals(platform.path("architecture").asText())
                    && (variant == null || variant.equals(platform.path("variant").asText()))
                    && Digest.isDigest(child.path("digest").asText())) {
                return Optional.of(Digest.parse(child.path("digest").asText()));
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant == null ? "" : "/" + variant);
    }
}
