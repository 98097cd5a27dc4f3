package io.mirrorball.migrate.source;

import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RegistryHost;
import java.net.URI;
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

    /**
     * Parses {@code [docker://]NAME[:TAG|@DIGEST]} by Docker's rules ({@link SourceRefParser}):
     * {@code alpine}, {@code library/alpine} and {@code docker.io/library/alpine} are equal, and a
     * name without tag or digest is {@code :latest}. Invalid text is an IllegalArgumentException quoting it.
     */
    public static ImageName parse(String text) {
        return SourceRefParser.parseImageName(text);
    }

    public boolean dockerHub() {
        return registry.equals(DOCKER_HUB);
    }

    /**
     * The base of the registry API: {@code https://registry-1.docker.io} for Docker Hub, else
     * {@code https://host[:port]}, or {@code http://} when {@code plainHttp} ({@code --src-plain-http};
     * never for Hub).
     */
    public URI apiBase(boolean plainHttp) {
        return RegistryHost.parse(registry).apiBase(plainHttp);
    }

    /** The repository name at the destination (before {@code --dest-prefix}): Hub's {@code library/} dropped. */
    public String destinationRepository() {
        return dockerHub() && repository.startsWith("library/") ? repository.substring("library/".length())
                : repository;
    }

    /** {@code registry/repository:tag} or {@code registry/repository@digest}. */
    public String canonical() {
        return registry + "/" + repository + (reference.isDigest() ? "@" : ":") + reference;
    }
}
