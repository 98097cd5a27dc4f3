package io.mirrorball.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.store.ManifestStore;
import io.mirrorball.store.StoredManifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@link ImageFacts} from the store: the manifest, and the image configuration for the platform
 * (for an index, the platforms its entries declare). Only what the store holds is read, every blob
 * verified against its digest; nothing is fetched from an upstream or the network.
 */
final class ImageFactsReader {
    /** An image configuration is a few KiB; a bigger one is not read for the page. */
    private static final int CONFIG_CAP = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ManifestStore manifests;
    private final Cache<Digest, ImageFacts> cache = Caffeine.newBuilder().maximumSize(20_000).build();

    ImageFactsReader(ManifestStore manifests) {
        this.manifests = manifests;
    }

    /** The facts of an image whose top manifest the store holds; empty when it does not hold it. */
    Optional<ImageFacts> facts(Digest digest) throws IOException {
        ImageFacts cached = cache.getIfPresent(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<StoredManifest> top = manifests.read(digest);
        if (top.isEmpty()) {
            return Optional.empty();
        }
        ImageFacts facts = top.get().manifest().isIndex() ? ofIndex(top.get()) : ofImage(top.get());
        cache.put(digest, facts);
        return Optional.of(facts);
    }

    private ImageFacts ofImage(StoredManifest stored) throws IOException {
        Manifest manifest = stored.manifest();
        long size = stored.content().length;
        for (Descriptor blob : manifest.blobs()) {
            size += blob.size();
        }
        List<String> platforms = new ArrayList<>();
        if (manifest.config() != null) {
            platformOfConfig(manifest.config().digest()).ifPresent(platforms::add);
        }
        return new ImageFacts(stored.digest(), stored.mediaType(), platforms, size);
    }

    private ImageFacts ofIndex(StoredManifest stored) throws IOException {
        List<String> platforms = new ArrayList<>();
        JsonNode entries = JSON.readTree(stored.content()).path("manifests");
        for (JsonNode entry : entries) {
            String platform = platform(entry.path("platform"));
            if (!platform.isEmpty() && !platform.startsWith("unknown/") && !platforms.contains(platform)) {
                platforms.add(platform); // unknown/unknown: build attestations, not something to run
            }
        }
        long size = stored.content().length;
        Set<Digest> counted = new HashSet<>();
        for (Descriptor child : stored.manifest().manifests()) {
            Optional<StoredManifest> childManifest = manifests.read(child.digest());
            if (childManifest.isEmpty()) {
                size = -1; // a platform nobody pulled through yet: the size is not known here
                break;
            }
            size += child.size();
            for (Descriptor blob : childManifest.get().manifest().blobs()) {
                if (counted.add(blob.digest())) {
                    size += blob.size();
                }
            }
        }
        return new ImageFacts(stored.digest(), stored.mediaType(), platforms, size);
    }

    private Optional<String> platformOfConfig(Digest config) throws IOException {
        Optional<byte[]> content;
        try {
            content = manifests.readSmallBlob(config, CONFIG_CAP);
        } catch (io.mirrorball.oci.OciException e) {
            return Optional.empty(); // larger than any image configuration: not one
        }
        if (content.isEmpty()) {
            return Optional.empty();
        }
        try {
            String platform = platform(JSON.readTree(content.get()));
            return platform.isEmpty() ? Optional.empty() : Optional.of(platform);
        } catch (IOException e) {
            return Optional.empty(); // an artifact's config need not be JSON
        }
    }

    /** {@code os/architecture[/variant]} of a platform object (or an image configuration); "" when absent. */
    static String platform(JsonNode node) {
        String os = node.path("os").asText("");
        String architecture = node.path("architecture").asText("");
        if (os.isEmpty() || architecture.isEmpty()) {
            return "";
        }
        String variant = node.path("variant").asText("");
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
