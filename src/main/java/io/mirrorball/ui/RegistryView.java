package io.mirrorball.ui;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.ContentAddress;
import io.mirrorball.store.PushHistory;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.store.UpstreamTags;
import io.mirrorball.upstream.retention.CacheLedger;
import io.mirrorball.upstream.retention.CachedItem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.InterruptedIOException;

/**
 * The registry as the web page shows it, read from the store: pushed repositories, what was pulled
 * through each upstream, and the images named by their CID, each filtered by what the visitor may pull.
 *
 * <p>An image published from a repository the visitor may not see stays hidden under its CID too: a CID
 * row is shown when one of the repositories it was published for is visible, or, when this instance does
 * not know where it came from (a clone, or another instance's publish), only to a visitor who sees every
 * repository; an image this instance only took pushes of by digest (a platform image of a multi-platform
 * push) is not listed under its CID. The listing is read again after every change this gateway made (a push, a pull-through of a
 * new tag), else at most every {@link #LISTING_FOR}; tags and images are read per page.
 */
final class RegistryView {
    static final Duration LISTING_FOR = Duration.ofSeconds(5);
    /** How long a page waits for a listing being read again before it shows the previous one. */
    static final Duration FRESH_WAIT = Duration.ofSeconds(1);
    private static final int READERS = 4;

    /** A repository of the listing and where its tags live. */
    record Entry(RepositoryRow row, RepositoryName name, String upstream, RepositoryName remoteName) {
    }

    private final RegistryStore store;
    private final String defaultUpstream;
    private final CacheLedger ledger;
    private final ImageFactsReader facts;
    /** The listing by {@link RegistryStore#changes()}: read again after a change here, or after {@link #LISTING_FOR}. */
    private final AsyncLoadingCache<Long, Map<String, Entry>> listing;
    /** The last listing read completely: shown while a newer one takes longer than {@link #FRESH_WAIT}. */
    private volatile Map<String, Entry> lastListing;
    /** Reads the listings, one at a time. */
    private final ExecutorService loader;
    /** Reads the tags of the repositories of a listing side by side (never the loader: it waits for them). */
    private final ExecutorService readers;

    /**
     * @param defaultUpstream the default upstream's name (its repositories keep their names), or null
     * @param ledger          the cache ledger, for last pulls; null without one
     */
    RegistryView(RegistryStore store, String defaultUpstream, CacheLedger ledger) {
        this.store = store;
        this.defaultUpstream = defaultUpstream;
        this.ledger = ledger;
        this.facts = new ImageFactsReader(store.manifests());
        this.loader = Executors.newSingleThreadExecutor(named("mirrorball-web-page-listing"));
        this.readers = Executors.newFixedThreadPool(READERS, named("mirrorball-web-page-reader"));
        this.listing = Caffeine.newBuilder().expireAfterWrite(LISTING_FOR).maximumSize(4).executor(loader)
                .buildAsync(changes -> {
                    Map<String, Entry> read = read();
                    lastListing = read;
                    return read;
                });
    }

    /** The repositories the visitor may see, sorted by name, whose name contains {@code query} (any case). */
    List<RepositoryRow> repositories(Visitor visitor, String query) throws IOException {
        String needle = query == null ? "" : query.strip().toLowerCase(Locale.ROOT);
        return visible(visitor).stream().map(Entry::row)
                .filter(row -> needle.isEmpty() || row.name().toLowerCase(Locale.ROOT).contains(needle))
                .toList();
    }

    /** The repository of that name, when the visitor may see it. */
    Optional<Entry> repository(Visitor visitor, String name) throws IOException {
        return visible(visitor).stream().filter(e -> e.row().name().equals(name)).findFirst();
    }

    /** Whether the visitor may see the repository a push went to (for the recent publishes). */
    boolean sees(Visitor visitor, RepositoryName name) throws IOException {
        return repository(visitor, name.value()).isPresent();
    }

    /** The tags of a repository with what is known of each image. */
    List<TagRow> tags(Entry entry) throws IOException {
        List<TagRow> rows = new ArrayList<>();
        for (String tag : tagNames(entry)) {
            Optional<Digest> digest = resolve(entry, tag);
            if (digest.isPresent()) {
                rows.add(new TagRow(tag, digest.get(), facts.facts(digest.get()).orElse(null), time(entry, tag,
                        digest.get())));
            }
        }
        return rows;
    }

    /** The image a tag or digest of the repository names; empty when the repository does not have it. */
    Optional<ImagePage.Image> image(Entry entry, Reference reference) throws IOException {
        Optional<Digest> digest = reference.isDigest() ? digestHeld(entry, reference.digest())
                : resolve(entry, reference.tag());
        if (digest.isEmpty()) {
            return Optional.empty();
        }
        Optional<ImageFacts> known = facts.facts(digest.get());
        if (known.isEmpty()) {
            return Optional.empty();
        }
        Cid cid = entry.row().kind().equals(RepositoryRow.CONTENT_ADDRESSED) ? Cid.parse(entry.name().value())
                : store.publisher().publishedCid(digest.get()).orElse(null);
        Instant time = reference.isDigest() ? null : time(entry, reference.tag(), digest.get());
        Cid ipdrCid = store.publisher().ipdrCid(digest.get()).orElse(null);
        return Optional.of(new ImagePage.Image(entry.row(), reference.isDigest() ? null : reference.tag(),
                known.get(), cid, ipdrCid, time));
    }

    /** Stops the threads. */
    void close() {
        loader.shutdownNow();
        readers.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * The current listing: read again when this gateway changed something or it is {@link #LISTING_FOR}
     * old; a read that takes longer than {@link #FRESH_WAIT} (a large registry) leaves the page with the
     * previous listing, so that pages stay fast while pushes arrive.
     */
    private Map<String, Entry> current() throws IOException {
        CompletableFuture<Map<String, Entry>> reading = listing.get(store.changes());
        Map<String, Entry> previous = lastListing;
        try {
            return previous == null ? reading.get() : reading.get(FRESH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return previous;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the repositories");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            throw new IOException("reading the repositories: " + e.getCause(), e.getCause());
        }
    }

    private List<Entry> visible(Visitor visitor) throws IOException {
        Map<String, Entry> all = current();
        List<Entry> seen = new ArrayList<>();
        boolean seesEverything = true;
        for (Entry entry : all.values()) {
            if (!entry.row().kind().equals(RepositoryRow.CONTENT_ADDRESSED)) {
                if (visitor.mayPull().test(entry.name())) {
                    seen.add(entry);
                } else {
                    seesEverything = false;
                }
            }
        }
        PushHistory history = store.pushHistory();
        for (Entry entry : all.values()) {
            if (entry.row().kind().equals(RepositoryRow.CONTENT_ADDRESSED) && visitor.mayPull().test(entry.name())) {
                Cid cid = Cid.parse(entry.name().value());
                Set<RepositoryName> origins = history.repositoriesOf(cid);
                // an image pushed by digest only (a platform of a multi-platform push) is not listed on its own
                boolean shown = origins.isEmpty() ? seesEverything
                        : history.pushedByTag(cid) && origins.stream().anyMatch(visitor.mayPull());
                if (shown) {
                    seen.add(entry);
                }
            }
        }
        seen.sort(java.util.Comparator.comparing(e -> e.row().name()));
        return seen;
    }

    private Map<String, Entry> read() {
        try {
            List<CompletableFuture<Entry>> reads = new ArrayList<>();
            for (String pushed : store.repositories().catalog()) {
                RepositoryName name = RepositoryName.parse(pushed);
                reads.add(entry(name, RepositoryRow.PUSHED, null, name));
            }
            UpstreamTags upstreamTags = store.upstreamTags();
            for (String upstream : upstreamTags.upstreams()) {
                for (RepositoryName remote : upstreamTags.repositories(upstream)) {
                    reads.add(entry(pullName(upstream, remote), RepositoryRow.UPSTREAM, upstream, remote));
                }
            }
            for (RepositoryName cid : store.repositories().contentAddressed()) {
                reads.add(entry(cid, RepositoryRow.CONTENT_ADDRESSED, null, cid));
            }
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (CompletableFuture<Entry> read : reads) {
                Entry entry = read.join();
                // a pushed repository of the same name as an upstream one wins, as it does in a pull
                if (entry != null) {
                    entries.putIfAbsent(entry.row().name(), entry);
                }
            }
            return entries;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io;
            }
            throw e;
        }
    }

    /** Reads a repository's tag count on the readers; null when it went away meanwhile. */
    private CompletableFuture<Entry> entry(RepositoryName name, String kind, String upstream, RepositoryName remote) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                // an image named by its CID has the tag latest (a clone of another program's image may have
                // more): not counted, which would read two directories per image, and there can be thousands
                int tags = kind.equals(RepositoryRow.CONTENT_ADDRESSED) ? RepositoryRow.NOT_COUNTED
                        : upstream != null ? store.upstreamTags().tags(upstream, remote).size()
                        : store.manifests().tags(name).size();
                return new Entry(new RepositoryRow(name.value(), kind, upstream, tags), name, upstream, remote);
            } catch (OciException e) {
                return null; // NAME_UNKNOWN: removed since the listing was read
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, readers);
    }

    /** The name a client pulls an upstream repository by: as is from the default, else under the upstream's name. */
    private RepositoryName pullName(String upstream, RepositoryName remote) {
        if (upstream.equals(defaultUpstream)) {
            return remote;
        }
        String prefixed = upstream + "/" + remote.value();
        return RepositoryName.isValid(prefixed) ? RepositoryName.parse(prefixed) : remote;
    }

    private List<String> tagNames(Entry entry) throws IOException {
        if (entry.upstream() != null) {
            return store.upstreamTags().tags(entry.upstream(), entry.remoteName());
        }
        try {
            return store.manifests().tags(entry.name());
        } catch (OciException e) {
            return List.of(); // deleted since the listing was read
        }
    }

    private Optional<Digest> resolve(Entry entry, String tag) throws IOException {
        if (!Reference.isTag(tag)) {
            return Optional.empty();
        }
        if (entry.upstream() != null) {
            return store.upstreamTags().read(entry.upstream(), entry.remoteName(), tag).map(UpstreamTags.Tagged::digest);
        }
        return store.manifests().resolve(entry.name(), Reference.parse(tag));
    }

    /** A digest the repository holds: a revision of a local one; for an upstream one, a manifest one of its tags names. */
    private Optional<Digest> digestHeld(Entry entry, Digest digest) throws IOException {
        if (entry.upstream() == null) {
            return store.manifests().resolve(entry.name(), Reference.parse(digest.toString()));
        }
        for (String tag : tagNames(entry)) {
            if (resolve(entry, tag).filter(digest::equals).isPresent()) {
                return Optional.of(digest);
            }
        }
        return Optional.empty();
    }

    private Instant time(Entry entry, String tag, Digest digest) {
        if (entry.row().kind().equals(RepositoryRow.PUSHED)) {
            return store.pushHistory().lastPush(entry.name(), tag).map(PushHistory.Push::at).orElse(null);
        }
        if (entry.upstream() != null && ledger != null) {
            return ledger.item(digest).map(CachedItem::lastUse).orElse(null);
        }
        return null;
    }

    /** Whether an image directory of this CID is here (published or cloned), for disco.json. */
    static boolean isCidName(String name) {
        return RepositoryName.isValid(name)
                && ContentAddress.of(RepositoryName.parse(name)).map(a -> a.cid() != null).orElse(false);
    }
}
