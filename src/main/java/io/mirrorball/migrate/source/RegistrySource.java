package io.mirrorball.migrate.source;

import io.mirrorball.credentials.CredentialResolver;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.upstream.SourceClient;
import java.net.URI;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images from a registry, over a {@link SourceClient}: one image ({@link SourceRef.RegistryImage}), the
 * tags of a repository that its filter takes ({@link SourceRef.RegistryRepository}), or the repositories of
 * the catalog that its filter takes and their tags ({@link SourceRef.RegistryCatalog}). Listings are read a
 * page at a time as {@link #images()} is drained. An image's destination is its repository, with Docker
 * Hub's {@code library/} dropped.
 */
public final class RegistrySource implements Source {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrySource.class);
    /** The page size of tag and catalog listings. */
    public static final int PAGE_SIZE = 1000;

    private final SourceRef ref;
    private final SourceClient client;
    private final boolean ownsClient;
    private final int pageSize;

    private RegistrySource(SourceRef ref, SourceClient client, boolean ownsClient, int pageSize) {
        this.ref = ref;
        this.client = client;
        this.ownsClient = ownsClient;
        this.pageSize = pageSize;
    }

    /**
     * A source over its own client of the ref's registry ({@code https://}, or {@code http://} when
     * {@code plainHttp}), with credentials from {@code resolver}; closing the source closes the client.
     *
     * @param pageSize the page size of listings ({@link #PAGE_SIZE} normally)
     * @throws IllegalArgumentException when {@code ref} is not a registry reference
     */
    public static RegistrySource open(SourceRef ref, CredentialResolver resolver, SourceClient.Settings settings,
                                      boolean plainHttp, int pageSize) {
        String registry = registry(ref);
        SourceClient client = SourceClient.open(URI.create((plainHttp ? "http://" : "https://") + registry),
                resolver, settings);
        return new RegistrySource(ref, client, true, checkPageSize(pageSize));
    }

    /**
     * A source over a client the caller keeps (and closes), so that several sources of one registry share
     * its connections and tokens.
     *
     * @throws IllegalArgumentException when {@code ref} is not a registry reference or names another registry
     */
    public static RegistrySource over(SourceRef ref, SourceClient client, int pageSize) {
        String registry = registry(ref);
        if (!registry.equals(client.registry())) {
            throw new IllegalArgumentException(ref.text() + " is not on " + client.registry());
        }
        return new RegistrySource(ref, client, false, checkPageSize(pageSize));
    }

    private static int checkPageSize(int pageSize) {
        if (pageSize < 1) {
            throw new IllegalArgumentException("page size must be at least 1");
        }
        return pageSize;
    }

    private static String registry(SourceRef ref) {
        Objects.requireNonNull(ref, "ref");
        if (ref instanceof SourceRef.RegistryImage image) {
            return image.image().registry();
        }
        if (ref instanceof SourceRef.RegistryRepository repository) {
            return repository.registry();
        }
        if (ref instanceof SourceRef.RegistryCatalog catalog) {
            return catalog.registry();
        }
        throw new IllegalArgumentException(ref.text() + " is not a registry reference");
    }

    /** The client this source reads through (for its rate-limit state). */
    public SourceClient client() {
        return client;
    }

    @Override
    public java.util.Optional<io.mirrorball.upstream.RateLimitInfo> rateLimit() {
        return client.rateLimit();
    }

    @Override
    public Iterator<ImageTask> images() {
        if (ref instanceof SourceRef.RegistryImage image) {
            ImageName name = image.image();
            return List.of(new ImageTask(ref.text(), name.repository(), name.reference(),
                    destination(name.repository()))).iterator();
        }
        if (ref instanceof SourceRef.RegistryRepository repository) {
            return tagsOf(repository.repository(), repository.tags(), false);
        }
        SourceRef.RegistryCatalog catalog = (SourceRef.RegistryCatalog) ref;
        return new Catalog(client.listCatalog(pageSize), catalog.repositories(), catalog.tags());
    }

    private Iterator<ImageTask> tagsOf(String repository, Predicate<String> take, boolean skipMissing) {
        String destination = destination(repository);
        Iterator<String> tags = client.listTags(repository, pageSize);
        return new Iterator<>() {
            private ImageTask next;

            @Override
            public boolean hasNext() {
                try {
                    while (next == null && tags.hasNext()) {
                        String tag = tags.next();
                        if (Reference.isTag(tag) && take.test(tag)) {
                            next = new ImageTask(text(repository, tag), repository, Reference.ofTag(tag), destination);
                        }
                    }
                } catch (MigrateException e) {
                    if (skipMissing && e.kind() == FailureKind.NOT_FOUND) {
                        LOG.warn("{}: the catalog lists it, but it has no tags", repository);
                        return false;
                    }
                    throw e;
                }
                return next != null;
            }

            @Override
            public ImageTask next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ImageTask task = next;
                next = null;
                return task;
            }
        };
    }

    /** The catalog's repositories that the filter takes, each with its tags. */
    private final class Catalog implements Iterator<ImageTask> {
        private final Iterator<String> repositories;
        private final Predicate<String> takeRepository;
        private final Predicate<String> takeTag;
        private Iterator<ImageTask> current = Collections.emptyIterator();

        Catalog(Iterator<String> repositories, Predicate<String> takeRepository, Predicate<String> takeTag) {
            this.repositories = repositories;
            this.takeRepository = takeRepository;
            this.takeTag = takeTag;
        }

        @Override
        public boolean hasNext() {
            while (!current.hasNext() && repositories.hasNext()) {
                String repository = repositories.next();
                if (!takeRepository.test(repository)) {
                    continue;
                }
                if (!RepositoryName.isValid(destination(repository, false))) {
                    LOG.warn("{}: skipped, not a valid repository name", repository);
                    continue;
                }
                current = tagsOf(repository, takeTag, true);
            }
            return current.hasNext();
        }

        @Override
        public ImageTask next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }
    }

    private String text(String repository, String tag) {
        return "docker://" + client.registry() + "/" + repository + ":" + tag;
    }

    private String destination(String repository) {
        return destination(repository, true);
    }

    /** The repository name at the destination: Hub's {@code library/} dropped, checked when {@code check}. */
    private String destination(String repository, boolean check) {
        String name = client.dockerHub() && repository.startsWith("library/")
                ? repository.substring("library/".length()) : repository;
        if (check && !RepositoryName.isValid(name)) {
            throw new MigrateException(FailureKind.INVALID_SOURCE, repository
                    + ": not a valid repository name for the destination");
        }
        return name;
    }

    @Override
    public Fetched manifest(String repository, Reference reference) {
        return client.manifest(repository, reference);
    }

    @Override
    public BlobStream blob(String repository, Descriptor blob, long offset) {
        return client.blob(repository, blob, offset);
    }

    @Override
    public List<Descriptor> referrers(String repository, Digest subject) {
        return client.referrers(repository, subject);
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }
}
