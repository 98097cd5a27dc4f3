package io.mirrorball.migrate;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection for the resume tests only (the hidden {@code --test-halt-at} option): stops the
 * process as a kill -9 would ({@link Runtime#halt}, no shutdown hooks, nothing flushed) at the Nth
 * blob copied (on the copying thread, right after the upload completed and left the journal), the
 * Nth manifest about to be put, or the Nth image published.
 */
final class TestHalt {
    static final TestHalt NEVER = new TestHalt(null, 0);

    private final String point;
    private final int at;
    private final AtomicInteger blobs = new AtomicInteger();
    private final AtomicInteger manifests = new AtomicInteger();
    private final AtomicInteger published = new AtomicInteger();

    private TestHalt(String point, int at) {
        this.point = point;
        this.at = at;
    }

    /** {@code after-blob:N}, {@code before-manifest:N} or {@code after-publish:N}; null for none. */
    static TestHalt parse(String spec) {
        if (spec == null || spec.isEmpty()) {
            return NEVER;
        }
        String[] parts = spec.split(":", 2);
        if (parts.length != 2 || !(parts[0].equals("after-blob") || parts[0].equals("before-manifest")
                || parts[0].equals("after-publish"))) {
            throw new IllegalArgumentException("--test-halt-at must be after-blob:N, before-manifest:N or after-publish:N");
        }
        return new TestHalt(parts[0], Integer.parseInt(parts[1]));
    }

    void afterBlob() {
        check("after-blob", blobs);
    }

    void beforeManifest() {
        check("before-manifest", manifests);
    }

    void afterPublish() {
        check("after-publish", published);
    }

    private void check(String here, AtomicInteger counter) {
        if (here.equals(point) && counter.incrementAndGet() == at) {
            Runtime.getRuntime().halt(137);
        }
    }
}
