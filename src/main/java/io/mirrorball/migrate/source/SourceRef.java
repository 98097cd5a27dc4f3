package io.mirrorball.migrate.source;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A SOURCE argument of {@code migrate}, parsed ({@code SourceRefParser}). {@code text} is the
 * argument as typed, for the report. Registry hosts are canonical: Docker Hub is {@code docker.io}
 * whichever alias was typed, others are {@code host[:port]} in lower case.
 */
public sealed interface SourceRef {
    String text();

    /** One image: {@code docker://host/repo:tag}, {@code @digest}, or a Hub name such as {@code alpine}. */
    record RegistryImage(String text, ImageName image) implements SourceRef {
    }

    /** Every tag of a repository that {@code tags} takes. */
    record RegistryRepository(String text, String registry, String repository, Predicate<String> tags)
            implements SourceRef {
    }

    /** Every repository of a registry's {@code _catalog} that {@code repositories} takes, and their tags. */
    record RegistryCatalog(String text, String registry, Predicate<String> repositories, Predicate<String> tags)
            implements SourceRef {
    }

    /** An OCI image layout directory, one tag ({@code org.opencontainers.image.ref.name}) or every entry. */
    record OciLayout(String text, Path directory, Optional<String> tag) implements SourceRef {
    }

    /** A {@code docker save} archive (uncompressed tar). */
    record DockerArchive(String text, Path file) implements SourceRef {
    }
}
