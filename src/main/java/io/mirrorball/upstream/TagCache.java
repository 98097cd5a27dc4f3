package io.mirrorball.upstream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import java.time.Duration;
import java.util.Optional;

/**
 * Tag to digest, as last seen upstream. An entry is fresh for the tag TTL after it was last validated;
 * a stale entry is revalidated with a HEAD, and is still served when the upstream fails
 * (stale-if-error), so entries are evicted by size only, never by age.
 */
final class TagCache {
    record Key(RepositoryName name, String tag) {
    }

    /** What a tag pointed at, and when (ticker nanos) the upstream last confirmed it. */
    record Entry(Digest digest, String mediaType, long size, long validatedAt) {
    }

    private final Cache<Key, Entry> entries = Caffeine.newBuilder().maximumSize(100_000).build();
    private final Ticker ticker;
    private final long ttlNanos;

    TagCache(Duration ttl, Ticker ticker) {
        this.ttlNanos = ttl.toNanos();
        this.ticker = ticker;
    }

    Optional<Entry> get(Key key) {
        return Optional.ofNullable(entries.getIfPresent(key));
    }

    boolean isFresh(Entry entry) {
        return ticker.read() - entry.validatedAt() < ttlNanos;
    }

    Entry put(Key key, Digest digest, String mediaType, long size) {
        Entry entry = new Entry(digest, mediaType, size, ticker.read());
        entries.put(key, entry);
        return entry;
    }

    /**
     * An entry read back from the store after a restart: known, but stale at once, so its first use
     * revalidates it with the upstream (and serves it when the upstream fails). An entry learned in the
     * meantime wins.
     */
    Entry putStale(Key key, Digest digest, String mediaType, long size) {
        Entry entry = new Entry(digest, mediaType, size, ticker.read() - ttlNanos);
        Entry existing = entries.asMap().putIfAbsent(key, entry);
        return existing == null ? entry : existing;
    }

    void invalidate(Key key) {
        entries.invalidate(key);
    }
}
