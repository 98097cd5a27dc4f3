package io.mirrorball.migrate;

import io.mirrorball.oci.Platform;
import java.time.Duration;

/**
 * How a migration runs: {@code jobs} blobs copied at once (and as many images in flight),
 * {@code platform} (null: every platform of an index), whether referrers are copied, the prefix put
 * before every destination repository name, {@code dryRun} (plan and ask, never write), the longest
 * a call may wait for a rate limit or an unreachable host, and {@code retryScale} (1; tests shrink it).
 */
public record MigrateOptions(int jobs, Platform platform, boolean referrers, String destinationPrefix,
                             boolean dryRun, Duration maxRetryWait, double retryScale) {
    public MigrateOptions {
        if (jobs < 1 || jobs > 64) {
            throw new IllegalArgumentException("--jobs must be 1 to 64, not " + jobs);
        }
        destinationPrefix = destinationPrefix == null ? "" : destinationPrefix;
    }
}
