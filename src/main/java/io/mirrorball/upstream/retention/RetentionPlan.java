package io.mirrorball.upstream.retention;

import java.util.List;

/**
 * What a retention run removes now, and why.
 *
 * @param idle         items not used for longer than {@code cache.max-idle}, least recently used first
 * @param overSize     then items removed, least recently used first, while the cache exceeds {@code cache.max-size}
 * @param cachedBytes  the size of every removable item before the run (content that a local repository
 *                     references is pushed content: neither counted nor removed)
 * @param protectedItems items of the ledger that a local repository references
 */
public record RetentionPlan(List<CachedItem> idle, List<CachedItem> overSize, long cachedBytes, int protectedItems) {
    public RetentionPlan {
        idle = List.copyOf(idle);
        overSize = List.copyOf(overSize);
    }

    /** Everything to remove, in order. */
    public List<CachedItem> removals() {
        List<CachedItem> all = new java.util.ArrayList<>(idle);
        all.addAll(overSize);
        return List.copyOf(all);
    }

    public long bytesToRemove() {
        return removals().stream().mapToLong(CachedItem::size).sum();
    }
}
