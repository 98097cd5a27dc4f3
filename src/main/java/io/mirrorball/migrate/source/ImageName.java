package io.mirrorball.migrate.source;

import io.mirrorball.oci.Reference;
import java.util.Objects;

/**
 * An image in a registry: {@code registry} is the canonical host ({@code docker.io} for Docker Hub,
 * else {@code host[:port]} in lower case), {@code repository} the name there (Hub's one-component
 * names carry {@code library/}), {@code reference} the tag or digest ({@code latest} when none was
 * given).
 */
public record ImageName(String registry, String repository, Reference reference) {
    /** The canonical name of Docker Hub. */
    public static final String DOCKER_HUB = "docker.io";

    public ImageName {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(reference, "reference");
    }

    public boolean dockerHub() {
        return registry.equals(DOCKER_HUB);
    }
}
