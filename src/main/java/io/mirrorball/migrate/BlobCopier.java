package io.mirrorball.migrate;

import io.mirrorball.migrate.dest.BlobPlan;
import io.mirrorball.migrate.dest.Destination;
import io.mirrorball.migrate.source.BlobStream;
import io.mirrorball.migrate.source.Source;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * Copies blobs into the destination on the {@code --jobs} pool. Each digest travels at most once per
 * run: the first image that needs it copies it, and every other image waits for that copy and then
 * only links it (a mount). A blob journaled by an interrupted run continues where the destination's
 * upload stopped, asking the source for the rest with a Range request.
 */
final class BlobCopier {
    /** How one blob got into the repository. */
    record Outcome(Digest digest, long bytesCopied, boolean skipped) {
    }

    /** Where one blob comes from and goes to. */
    record Job(Source source, String sourceRepository, String sourceHost, RepositoryName destination,
               Descriptor blob, String image) {
    }

    /** Tries of one blob that was cut off mid-stream. */
    static final int MID_BLOB_ATTEMPTS = 4;

    private final Destination destination;
    private final TestHalt halt;
    private final ResumeJournal journal;
    private final RetryPolicy retry;
    private final Progress progress;
    private final ExecutorService pool;
    private final String destinationHost;
    private final Map<Digest, CompletableFuture<Outcome>> firstCopies = new ConcurrentHashMap<>();

    BlobCopier(Destination destination, String destinationHost, ResumeJournal journal, RetryPolicy retry,
               Progress progress, ExecutorService pool, TestHalt halt) {
        this.halt = halt;
        this.destination = destination;
        this.destinationHost = destinationHost;
        this.journal = journal;
        this.retry = retry;
        this.progress = progress;
        this.pool = pool;
    }

    /** The blob in the job's repository, copied or linked; completes exceptionally with a MigrateException. */
    CompletableFuture<Outcome> copy(Job job) {
        CompletableFuture<Outcome> mine = new CompletableFuture<>();
        CompletableFuture<Outcome> first = firstCopies.putIfAbsent(job.blob().digest(), mine);
        if (first == null) {
            pool.execute(() -> complete(mine, job));
            return mine;
        }
        // another image copies (or copied) it: once that ends, this repository only needs a link
        CompletableFuture<Outcome> linked = new CompletableFuture<>();
        first.whenComplete((outcome, failure) -> pool.execute(() -> complete(linked, job)));
        return linked;
    }

    private void complete(CompletableFuture<Outcome> future, Job job) {
        try {
            future.complete(transferResuming(job));
        } catch (MigrateException e) {
            progress.blobFailed(job.blob().digest(), e.getMessage());
            future.completeExceptionally(e);
        } catch (IOException | RuntimeException e) {
            MigrateException failure = Failures.of(e, "copy blob " + job.blob().digest() + " of " + job.image());
            progress.blobFailed(job.blob().digest(), failure.getMessage());
            future.completeExceptionally(failure);
        }
    }

    /**
     * A copy cut off mid-blob (a reset, a timeout) continues from what the destination holds, as a
     * re-run would, a few times before the image fails.
     */
    private Outcome transferResuming(Job job) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return transfer(job);
            } catch (IOException e) {
                if (attempt == MID_BLOB_ATTEMPTS || e instanceof java.io.InterruptedIOException
                        && Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                progress.warning("blob " + job.blob().digest() + " of " + job.image() + " was cut off ("
                        + Failures.describe(e) + "): continuing where it stopped");
                retry.pauseBeforeResuming(attempt);
            }
        }
    }

    private Outcome transfer(Job job) throws IOException {
        Descriptor blob = job.blob();
        Optional<BlobPlan.Upload> resumed = resumeJournaled(job);
        BlobPlan plan = resumed.isPresent() ? resumed.get()
                : retry.call(destinationHost, () -> destination.ensureBlob(job.destination(), blob));
        if (plan instanceof BlobPlan.Linked) {
            progress.blobDone(blob.digest(), blob.size(), true);
            return new Outcome(blob.digest(), 0, true);
        }
        BlobPlan.Upload upload = (BlobPlan.Upload) plan;
        if (upload.offset() > blob.size()) {
            destination.cancel(job.destination(), upload.token());
            journal.remove(blob.digest());
            upload = (BlobPlan.Upload) retry.call(destinationHost, () -> destination.ensureBlob(job.destination(), blob));
        }
        journal.record(new ResumeJournal.Entry(blob.digest(), job.destination().value(), upload.token()));
        long copied = send(job, upload);
        journal.remove(blob.digest());
        halt.afterBlob();
        progress.blobDone(blob.digest(), blob.size(), false);
        return new Outcome(blob.digest(), copied, false);
    }

    /** The upload an interrupted run left for this blob, if it is for this repository and still open. */
    private Optional<BlobPlan.Upload> resumeJournaled(Job job) throws IOException {
        Optional<ResumeJournal.Entry> entry = journal.find(job.blob().digest());
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        if (!entry.get().repository().equals(job.destination().value())) {
            return Optional.empty(); // the mount after the other repository's copy finds it, if it completed
        }
        Optional<BlobPlan.Upload> upload = retry.call(destinationHost,
                () -> destination.resume(job.destination(), entry.get().token()));
        if (upload.isEmpty()) {
            journal.remove(job.blob().digest()); // expired or completed: ensureBlob tells which
        }
        return upload;
    }

    /** Streams the blob from the upload's offset to its end; returns the bytes sent. */
    private long send(Job job, BlobPlan.Upload upload) throws IOException {
        Descriptor blob = job.blob();
        long offset = upload.offset();
        progress.blobStarted(job.image(), blob.digest(), blob.size(), offset);
        try (BlobStream stream = retry.call(job.sourceHost(),
                () -> job.source().blob(job.sourceRepository(), blob, offset))) {
            InputStream in = stream.in();
            if (stream.offset() < offset) {
                in.skipNBytes(offset - stream.offset()); // the source ignored the Range
            }
            CountingStream counted = new CountingStream(in, blob.digest(), blob.size() - offset);
            destination.upload(job.destination(), upload, blob, counted);
            if (counted.count != blob.size() - offset) {
                throw new MigrateException(FailureKind.INVALID_SOURCE, "blob " + blob.digest() + " of " + job.image()
                        + " has " + (offset + counted.count) + " bytes at the source, not " + blob.size());
            }
            return counted.count;
        }
    }

    /** Counts what passes, reports it, and refuses a blob longer than its descriptor says. */
    private final class CountingStream extends FilterInputStream {
        private final Digest digest;
        private final long expected;
        private long count;

        CountingStream(InputStream in, Digest digest, long expected) {
            super(in);
            this.digest = digest;
            this.expected = expected;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                if (count > expected) {
                    throw new MigrateException(FailureKind.INVALID_SOURCE, "blob " + digest
                            + " is longer at the source than its descriptor says");
                }
                progress.blobBytes(digest, n);
            }
            return n;
        }
    }

    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
