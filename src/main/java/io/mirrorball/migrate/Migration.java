package io.mirrorball.migrate;

import io.mirrorball.migrate.dest.Destination;
import io.mirrorball.migrate.source.ImageTask;
import io.mirrorball.migrate.source.Source;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a migration: lists every source's images (lazily, on the calling thread), copies up to
 * {@code --jobs} images at once (their blobs on a pool of {@code --jobs} threads, each digest once),
 * and keeps going when one image fails. At most {@code 4 × jobs} images wait in memory, so a whole
 * registry is never held. The destination is the state: a re-run finds what is there and copies the
 * rest, so an interrupted run followed by a re-run ends as one uninterrupted run would.
 */
public final class Migration {
    /** A source and how it is named in the report; {@code host} keys its retry gate. */
    public record Entry(String text, String host, Source source) {
    }

    private final Destination destination;
    private final String destinationHost;
    private final MigrateOptions options;
    private final Progress progress;
    private final ResumeJournal journal;
    private final TestHalt halt;

    public Migration(Destination destination, String destinationHost, MigrateOptions options, Progress progress,
                     ResumeJournal journal, String testHalt) {
        this.destination = destination;
        this.destinationHost = destinationHost;
        this.options = options;
        this.progress = progress;
        this.journal = journal;
        this.halt = TestHalt.parse(testHalt);
    }

    public MigrationReport run(List<Entry> sources) throws InterruptedException {
        RetryPolicy retry = new RetryPolicy(options.maxRetryWait(), options.retryScale(), progress);
        ExecutorService blobPool = Executors.newFixedThreadPool(options.jobs(), named("mirrorball-migrate-blob-"));
        ExecutorService imagePool = Executors.newFixedThreadPool(options.jobs(), named("mirrorball-migrate-image-"));
        BlobCopier blobs = new BlobCopier(destination, destinationHost, journal, retry, progress, blobPool, halt);
        Planning planning = new Planning(progress);
        ImageCopier images = new ImageCopier(destination, destinationHost, blobs, retry, planning, options, halt);
        Map<Integer, Object> outcomes = new ConcurrentSkipListMap<>();
        Semaphore waiting = new Semaphore(4 * options.jobs());
        AtomicInteger order = new AtomicInteger();
        try {
            for (Entry entry : sources) {
                try {
                    Iterator<ImageTask> tasks = entry.source().images();
                    while (tasks.hasNext()) {
                        ImageTask task = tasks.next();
                        int index = order.getAndIncrement();
                        planning.listed();
                        waiting.acquire();
                        imagePool.execute(() -> {
                            try {
                                outcomes.put(index, copyOne(images, planning, entry, task));
                            } finally {
                                waiting.release();
                            }
                        });
                    }
                } catch (MigrateException e) {
                    ImageFailure failure = new ImageFailure(entry.text(), e.kind(), e.getMessage());
                    outcomes.put(order.getAndIncrement(), failure);
                    progress.imageFailed(failure);
                }
            }
            planning.listingDone();
            imagePool.shutdown();
            while (!imagePool.awaitTermination(1, TimeUnit.MINUTES)) {
                // images of a large registry take long; the progress display shows they move
            }
        } finally {
            imagePool.shutdownNow();
            blobPool.shutdownNow();
        }
        List<ImageResult> results = new ArrayList<>();
        List<ImageFailure> failures = new ArrayList<>();
        for (Object outcome : outcomes.values()) {
            if (outcome instanceof ImageResult result) {
                results.add(result);
            } else {
                failures.add((ImageFailure) outcome);
            }
        }
        return new MigrationReport(results, failures, options.dryRun());
    }

    private Object copyOne(ImageCopier images, Planning planning, Entry entry, ImageTask task) {
        try {
            ImageResult result = images.copy(entry.source(), entry.host(), task);
            progress.imageDone(result);
            return result;
        } catch (IOException | RuntimeException e) {
            MigrateException m = Failures.of(e, task.source());
            ImageFailure failure = new ImageFailure(task.source(), m.kind(), m.getMessage());
            progress.imageFailed(failure);
            return failure;
        } finally {
            planning.ended(task.source());
        }
    }

    /**
     * Tells the progress display when the totals are final: every image listed, and each of them
     * planned (its manifests read) or ended. Passes every other event through.
     */
    private static final class Planning extends ForwardingProgress {
        private final java.util.Set<String> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final AtomicInteger listed = new AtomicInteger();
        private final AtomicInteger settled = new AtomicInteger();
        private volatile boolean listingDone;
        private final java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();

        Planning(Progress progress) {
            super(progress);
        }

        void listed() {
            listed.incrementAndGet();
        }

        @Override
        public void imagePlanned(String source, int blobs, long bytes) {
            super.imagePlanned(source, blobs, bytes);
            if (pending.add(source)) {
                settled.incrementAndGet();
            }
            check();
        }

        /** The image is copied or failed: planned or not, it no longer changes the totals. */
        void ended(String source) {
            if (pending.add(source)) {
                settled.incrementAndGet();
            }
            check();
        }

        void listingDone() {
            listingDone = true;
            check();
        }

        private void check() {
            if (listingDone && settled.get() >= listed.get() && told.compareAndSet(false, true)) {
                super.planningDone();
            }
        }

        @Override
        public void planningDone() {
            listingDone();
        }
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread thread = new Thread(r, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
