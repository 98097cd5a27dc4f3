package io.mirrorball.upstream.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class RetentionPlanTest {
    private static final Instant NOW = Instant.parse("2026-01-10T00:00:00Z");

    private static CachedItem item(String name, long size, int daysAgo) {
        return new CachedItem(Digest.ofBytes(name.getBytes(StandardCharsets.UTF_8)), size,
                NOW.minus(Duration.ofDays(daysAgo)), "u", "r");
    }

    private static final CachedItem OLD = item("old", 10, 5);
    private static final CachedItem PUSHED = item("pushed", 1000, 4);
    private static final CachedItem MID = item("mid", 20, 3);
    private static final CachedItem NEW = item("new", 30, 0);
    private static final List<CachedItem> LRU_FIRST = List.of(OLD, PUSHED, MID, NEW);

    @Test
    void plan_sizeCap_removesLeastRecentlyUsedUntilUnderAndSkipsReferenced() {
        RetentionPlan plan = CacheRetention.plan(LRU_FIRST, Set.of(PUSHED.digest()),
                new MirrorballConfig.Cache(35, Duration.ZERO), NOW);

        assertEquals(List.of(OLD, MID), plan.overSize());
        assertEquals(60, plan.cachedBytes(), "referenced content does not count");
        assertEquals(1, plan.protectedItems());
    }

    @Test
    void plan_maxIdleThenSize_idleFirst() {
        RetentionPlan plan = CacheRetention.plan(LRU_FIRST, Set.of(PUSHED.digest()),
                new MirrorballConfig.Cache(30, Duration.ofDays(4)), NOW);

        assertEquals(List.of(OLD), plan.idle());
        assertEquals(List.of(MID), plan.overSize());
        assertEquals(List.of(OLD, MID), plan.removals());
    }

    @Test
    void plan_noLimits_removesNothing() {
        RetentionPlan plan = CacheRetention.plan(LRU_FIRST, Set.of(), MirrorballConfig.Cache.NONE, NOW);

        assertEquals(List.of(), plan.removals());
    }
}
