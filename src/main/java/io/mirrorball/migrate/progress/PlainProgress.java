package io.mirrorball.migrate.progress;

import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.ImageResult;
import io.mirrorball.migrate.Progress;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One line per event, for a pipe or a log file: {@code copied sha256:ab12cd34ef56… (12.3 MiB,
 * 41.0 MiB/s) for app:1.2}, {@code skipped …}, {@code resumed … at 8.0 MiB}, {@code waiting 37 s for
 * host (429)}, {@code published app:1.2 sha256:… bafy…}, {@code failed source KIND: message}.
 * Thread-safe: each line is written and flushed whole. A blob's rate counts from its start.
 */
public final class PlainProgress implements Progress {
    private final PrintWriter out;
    private final LongSupplier nanoTime;
    private final Map<Digest, Started> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger imagesPlanned = new AtomicInteger();
    private final AtomicInteger blobsPlanned = new AtomicInteger();
    private final AtomicLong bytesPlanned = new AtomicLong();

    private record Started(String image, long offset, long startNanos) {
    }

    private PlainProgress(PrintWriter out, LongSupplier nanoTime) {
        this.out = Objects.requireNonNull(out, "out");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /** Writes to {@code out} (standard error in the CLI), which it flushes but never closes. */
    public static PlainProgress to(PrintWriter out) {
        return new PlainProgress(out, System::nanoTime);
    }

    /** As {@link #to(PrintWriter)}, with the clock that times each blob. */
    static PlainProgress to(PrintWriter out, LongSupplier nanoTime) {
        return new PlainProgress(out, nanoTime);
    }

    @Override
    public void imagePlanned(String source, int blobs, long bytes) {
        imagesPlanned.incrementAndGet();
        blobsPlanned.addAndGet(blobs);
        bytesPlanned.addAndGet(bytes);
        line("planned " + Lines.clean(source) + " (" + blobs + " blobs, " + Units.bytes(bytes) + ")");
    }

    @Override
    public void planningDone() {
        line("planning done: " + imagesPlanned.get() + " images, " + blobsPlanned.get() + " blobs, "
                + Units.bytes(bytesPlanned.get()));
    }

    @Override
    public void blobStarted(String image, Digest digest, long size, long offset) {
        inFlight.put(digest, new Started(image, offset, nanoTime.getAsLong()));
        if (offset > 0) {
            line("resumed " + Units.shortDigest(digest) + " at " + Units.bytes(offset) + " of " + Units.bytes(size)
                    + " for " + Lines.clean(image));
        }
    }

    @Override
    public void blobBytes(Digest digest, long bytes) {
        // one line per blob, when it is done
    }

    @Override
    public void blobDone(Digest digest, long size, boolean skipped) {
        Started started = inFlight.remove(digest);
        String forImage = started == null ? "" : " for " + Lines.clean(started.image());
        if (skipped) {
            line("skipped " + Units.shortDigest(digest) + " (present)" + forImage);
            return;
        }
        String rate = started == null ? ""
                : ", " + Units.rate(size - started.offset(), nanoTime.getAsLong() - started.startNanos());
        line("copied " + Units.shortDigest(digest) + " (" + Units.bytes(size) + rate + ")" + forImage);
    }

    @Override
    public void blobFailed(Digest digest, String reason) {
        Started started = inFlight.remove(digest);
        line(Lines.blobFailed(digest, started == null ? null : started.image(), reason));
    }

    @Override
    public void waiting(String host, Duration wait, String reason) {
        line(Lines.waiting(host, wait, reason));
    }

    @Override
    public void warning(String message) {
        line(Lines.warning(message));
    }

    @Override
    public void imageDone(ImageResult result) {
        line(Lines.published(result));
    }

    @Override
    public void imageFailed(ImageFailure failure) {
        line(Lines.failed(failure));
    }

    @Override
    public void close() {
        synchronized (out) {
            out.flush();
        }
    }

    private void line(String text) {
        synchronized (out) {
            out.println(text);
            out.flush();
        }
    }
}
