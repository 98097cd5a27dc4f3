package io.mirrorball.upstream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.Optional;

/**
 * Bearer tokens per (realm, service, scope), each kept for its {@code expires_in} minus a margin so that a
 * token is never sent in its last seconds. Time comes from the injected {@link Ticker}.
 */
final class TokenCache {
    /** Docker's token spec: a token without expires_in is valid for 60 seconds. */
    static final Duration DEFAULT_LIFETIME = Duration.ofSeconds(60);

    record Key(String realm, String service, String scope) {
    }

    private record Entry(String token, long lifetimeNanos) {
    }

    private final Cache<Key, Entry> tokens;

    TokenCache(Ticker ticker) {
        this.tokens = Caffeine.newBuilder()
                .maximumSize(10_000)
                .ticker(ticker)
                .expireAfter(new Expiry<Key, Entry>() {
                    @Override
                    public long expireAfterCreate(Key key, Entry value, long currentTime) {
                        return value.lifetimeNanos();
                    }

                    @Override
                    public long expireAfterUpdate(Key key, Entry value, long currentTime, long currentDuration) {
                        return value.lifetimeNanos();
                    }

                    @Override
                    public long expireAfterRead(Key key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    Optional<String> get(Key key) {
        Entry entry = tokens.getIfPresent(key);
        return entry == null ? Optional.empty() : Optional.of(entry.token());
    }

    /** Keeps a token for its lifetime less 10% (at least 1 s, at most 30 s less); a lifetime of 0 means the default. */
    void put(Key key, String token, Duration lifetime) {
        Duration life = lifetime == null || lifetime.isZero() || lifetime.isNegative() ? DEFAULT_LIFETIME : lifetime;
        long margin = Math.min(Math.max(life.toNanos() / 10, Duration.ofSeconds(1).toNanos()),
                Duration.ofSeconds(30).toNanos());
        long keep = life.toNanos() - margin;
        if (keep <= 0) {
            return;
        }
        tokens.put(key, new Entry(token, keep));
    }

    void invalidate(Key key) {
        tokens.invalidate(key);
    }
}
