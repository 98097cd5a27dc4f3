package io.mirrorball.upstream.retention;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.embedded.GcReport;
import io.mirrorball.oci.Digest;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.RegistryStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention of pulled-through content ({@code cache.max-idle}, {@code cache.max-size}). A run plans from
 * the {@link CacheLedger} and the store, then removes: first every item idle past {@code max-idle}, then
 * the least recently used while the rest exceeds {@code max-size}. Content that any local repository
 * references (pushed images, published images, CID and digest repositories; computed from the store at
 * every run) is never removed and does not count towards the size. Removing an item removes its entry
 * under {@code blobs/} and its pin; on the embedded node a gc then deletes the blocks nothing reaches any
 * more (those written within {@code gcGrace} stay until a later run), on Kubo block deletion is left to
 * Kubo's own GC ({@code ipfs repo gc}, or {@code --enable-gc}). One line is logged per removal.
 *
 * <p>A removed manifest of a cached tag is fetched again from the upstream at the next pull (the tag's
 * digest is looked up in memory, then the store, then the upstream), and so are removed blobs.
 */
public final class CacheRetention {
    private static final Logger LOG = LoggerFactory.getLogger(CacheRetention.class);
    /** The default gc grace on the embedded node: longer than any add takes to be linked into MFS. */
    public static final Duration GC_GRACE = Duration.ofMinutes(10);

    private final RegistryStore store;
    private final CacheLedger ledger;
    private final MirrorballConfig.Cache limits;
    private final Clock clock;
    private final Duration gcGrace;

    private CacheRetention(RegistryStore store, CacheLedger ledger, MirrorballConfig.Cache limits, Clock clock,
                           Duration gcGrace) {
        this.store = store;
        this.ledger = ledger;
        this.limits = limits;
        this.clock = clock;
        this.gcGrace = gcGrace;
    }

    public static CacheRetention of(RegistryStore store, CacheLedger ledger, MirrorballConfig.Cache limits,
                                    Clock clock, Duration gcGrace) {
        if (limits.maxSize() < 0 || limits.maxIdle().isNegative() || gcGrace.isNegative()) {
            throw new IllegalArgumentException("negative cache limit or gc grace");
        }
        return new CacheRetention(store, ledger, limits, clock, gcGrace);
    }

    /** Whether a limit is set at all (else runs remove nothing). */
    public boolean limited() {
        return limits.maxSize() > 0 || !limits.maxIdle().isZero();
    }

    public CacheLedger ledger() {
        return ledger;
    }

    /** What a run would remove now (the dry run). */
    public RetentionPlan plan() throws IOException {
        return plan(store, ledger.items(), limits, clock.instant());
    }

    /** What a run would remove at {@code now} from {@code items} (a ledger read while a gateway holds it). */
    public static RetentionPlan plan(RegistryStore store, List<CachedItem> items, MirrorballConfig.Cache limits,
                                     Instant now) throws IOException {
        return plan(items, store.repositories().referencedDigests(), limits, now);
    }

    /** The plan for {@code items} (least recently used first) when {@code referenced} are pushed content. */
    static RetentionPlan plan(List<CachedItem> items, Set<Digest> referenced, MirrorballConfig.Cache limits,
                              Instant now) {
        List<CachedItem> idle = new ArrayList<>();
        List<CachedItem> rest = new ArrayList<>();
        long cachedBytes = 0;
        int protectedItems = 0;
        Instant idleBefore = limits.maxIdle().isZero() ? null : now.minus(limits.maxIdle());
        for (CachedItem item : items) {
            if (referenced.contains(item.digest())) {
                protectedItems++;
                continue;
            }
            cachedBytes += item.size();
            if (idleBefore != null && item.lastUse().isBefore(idleBefore)) {
                idle.add(item);
            } else {
                rest.add(item);
            }
        }
        List<CachedItem> overSize = new ArrayList<>();
        if (limits.maxSize() > 0) {
            long total = rest.stream().mapToLong(CachedItem::size).sum();
            for (CachedItem item : rest) {
                if (total <= limits.maxSize()) {
                    break;
                }
                overSize.add(item);
                total -= item.size();
            }
        }
        return new RetentionPlan(idle, overSize, cachedBytes, protectedItems);
    }

    /** Plans and removes; returns what was planned (items already gone from the store are only forgotten). */
    public synchronized RetentionPlan run() throws IOException {
        RetentionPlan plan = plan();
        int removed = 0;
        for (CachedItem item : plan.removals()) {
            String why = plan.idle().contains(item) ? "idle since " + item.lastUse() : "over cache.max-size";
            Optional<BlobInfo> gone = store.blobs().remove(item.digest());
            ledger.removed(item.digest());
            if (gone.isPresent()) {
                removed++;
                LOG.info("cache: removed {} ({} bytes, {}, last used {}): {}", item.digest(), item.size(),
                        origin(item), item.lastUse(), why);
            } else {
                LOG.info("cache: forgot {} ({}): the store no longer holds it", item.digest(), origin(item));
            }
        }
        if (removed > 0) {
            freeSpace();
            ledger.flush();
        }
        return plan;
    }

    private static String origin(CachedItem item) {
        String repo = item.repository().isEmpty() ? "?" : item.repository();
        return item.upstream().isEmpty() ? repo : item.upstream() + "/" + repo;
    }

    private void freeSpace() throws IOException {
        IpfsNode node = store.node();
        if (node instanceof EmbeddedNode embedded) {
            GcReport report = embedded.gc(gcGrace);
            LOG.info("cache: gc freed {} bytes ({} blob files, {} blocks)", report.bytesFreed(),
                    report.blobFilesRemoved(), report.blockFilesRemoved());
        }
    }
}
