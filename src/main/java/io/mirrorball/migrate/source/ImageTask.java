package io.mirrorball.migrate.source;

import io.mirrorball.oci.Reference;
import java.util.Objects;

/**
 * One image a source names: {@code source} is how the report names it (for example
 * {@code docker://registry.example/app:1.0}); {@code repository} and {@code reference} are where it
 * is in the source; {@code destination} is the repository name it gets at the destination (before
 * {@code --dest-prefix}), already valid as a {@link io.mirrorball.oci.RepositoryName}.
 */
public record ImageTask(String source, String repository, Reference reference, String destination) {
    public ImageTask {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(destination, "destination");
    }
}
