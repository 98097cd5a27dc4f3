package io.mirrorball.migrate.progress;

import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.ImageResult;
import io.mirrorball.migrate.Progress;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.Display;

/**
 * A live display on a terminal, redrawn every 200 ms by the thread {@value #THREAD_NAME}: one line per
 * blob in flight (image, short digest, bar, bytes/size, rate), at most {@value #MAX_BLOB_LINES} with
 * {@code +N more}, and an overall line (images done/total, blobs copied/skipped, bytes, a rate averaged
 * over about 5 s, and the time left once planning is done). Lines follow the terminal's width as it
 * is resized. Events only update counters; failures, waits and warnings are queued and printed above
 * the display at the next redraw, so none is lost. It owns the terminal and closes it in {@link #close()}.
 */
public final class TerminalProgress implements Progress {
    static final String THREAD_NAME = "mirrorball-migrate-progress";
    static final int MAX_BLOB_LINES = 8;
    private static final long REDRAW_MILLIS = 200;
    private static final long CLOSE_WAIT_MILLIS = 2_000;
    private static final double EWMA_NANOS = 5e9;
    private static final int IMAGE_MAX = 24;
    private static final int IMAGE_MIN = 8;
    private static final int BAR_MAX = 30;
    private static final int BAR_MIN = 5;
    private static final int DEFAULT_COLUMNS = 80;
    private static final int DEFAULT_ROWS = 24;

    private final Terminal terminal;
    private final Display display;
    private final LongSupplier nanoTime;
    private final Object drawLock = new Object();
    private final Queue<String> messages = new ConcurrentLinkedQueue<>();
    private final Map<Digest, Active> active = new ConcurrentHashMap<>();
    private final AtomicInteger imagesPlanned = new AtomicInteger();
    private final AtomicInteger imagesDone = new AtomicInteger();
    private final AtomicInteger imagesFailed = new AtomicInteger();
    private final AtomicInteger blobsCopied = new AtomicInteger();
    private final AtomicInteger blobsSkipped = new AtomicInteger();
    private final AtomicLong bytesPlanned = new AtomicLong();
    /** Bytes sent, for the rate. */
    private final LongAdder bytesSent = new LongAdder();
    /** Sizes of blobs done (copied or skipped), for the bytes shown and the time left. */
    private final LongAdder bytesFinished = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile boolean planningDone;
    private volatile Thread thread;

    // the rate, only under drawLock
    private long sampleNanos = Long.MIN_VALUE;
    private long sampleBytes;
    private double bytesPerSecond = -1;

    private static final class Active {
        final String image;
        final String digest;
        final long size;
        final long offset;
        final long startNanos;
        final AtomicLong done;

        Active(String image, Digest digest, long size, long offset, long startNanos) {
            this.image = Lines.clean(image);
            this.digest = Units.shortDigest(digest);
            this.size = size;
            this.offset = offset;
            this.startNanos = startNanos;
            this.done = new AtomicLong(offset);
        }
    }

    private TerminalProgress(Terminal terminal, LongSupplier nanoTime) {
        this.terminal = Objects.requireNonNull(terminal, "terminal");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.display = new Display(terminal, false);
    }

    /** Draws on {@code terminal}, which it owns from now on, and starts redrawing. */
    public static TerminalProgress start(Terminal terminal) {
        TerminalProgress progress = new TerminalProgress(terminal, System::nanoTime);
        progress.startRedrawing();
        return progress;
    }

    /** Not started: a test calls {@link #render()} itself, or {@link #startRedrawing()}. */
    static TerminalProgress create(Terminal terminal, LongSupplier nanoTime) {
        return new TerminalProgress(terminal, nanoTime);
    }

    void startRedrawing() {
        Thread redraw = new Thread(this::redrawUntilClosed, THREAD_NAME);
        redraw.setDaemon(true);
        thread = redraw;
        redraw.start();
    }

    /** The redraw thread, or null before {@link #startRedrawing()}. */
    Thread thread() {
        return thread;
    }

    private void redrawUntilClosed() {
        try {
            while (!stop.await(REDRAW_MILLIS, TimeUnit.MILLISECONDS)) {
                render();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void imagePlanned(String source, int blobs, long bytes) {
        imagesPlanned.incrementAndGet();
        bytesPlanned.addAndGet(bytes);
    }

    @Override
    public void planningDone() {
        planningDone = true;
    }

    @Override
    public void blobStarted(String image, Digest digest, long size, long offset) {
        active.put(digest, new Active(image, digest, size, offset, nanoTime.getAsLong()));
    }

    @Override
    public void blobBytes(Digest digest, long bytes) {
        bytesSent.add(bytes);
        Active blob = active.get(digest);
        if (blob != null) {
            blob.done.addAndGet(bytes);
        }
    }

    @Override
    public void blobDone(Digest digest, long size, boolean skipped) {
        active.remove(digest);
        bytesFinished.add(Math.max(size, 0));
        (skipped ? blobsSkipped : blobsCopied).incrementAndGet();
    }

    @Override
    public void blobFailed(Digest digest, String reason) {
        Active blob = active.remove(digest);
        messages.add(Lines.blobFailed(digest, blob == null ? null : blob.image, reason));
    }

    @Override
    public void waiting(String host, Duration wait, String reason) {
        messages.add(Lines.waiting(host, wait, reason));
    }

    @Override
    public void warning(String message) {
        messages.add(Lines.warning(message));
    }

    @Override
    public void imageDone(ImageResult result) {
        imagesDone.incrementAndGet();
    }

    @Override
    public void imageFailed(ImageFailure failure) {
        imagesFailed.incrementAndGet();
        messages.add(Lines.failed(failure));
    }

    /** Stops the redraw thread, prints what is still queued, erases the display and closes the terminal. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stop.countDown();
        Thread redraw = thread;
        if (redraw != null) {
            try {
                redraw.join(CLOSE_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (drawLock) {
            resize();
            display.update(List.of(), 0);
            printMessages();
            terminal.flush();
        }
        try {
            terminal.close();
        } catch (IOException e) {
            // nothing is drawn any more and the summary goes to standard output: there is no one to tell
        }
    }

    /** Prints the queued messages above the display and redraws it; returns the lines drawn. */
    List<AttributedString> render() {
        synchronized (drawLock) {
            if (closed.get()) {
                return List.of();
            }
            Size size = resize();
            if (!messages.isEmpty()) {
                display.update(List.of(), 0);
                printMessages();
            }
            List<AttributedString> lines = lines(size.getColumns() - 1, size.getRows(), nanoTime.getAsLong());
            display.update(lines, -1);
            return lines;
        }
    }

    private Size resize() {
        Size size = terminal.getSize();
        int columns = size.getColumns() > 0 ? size.getColumns() : DEFAULT_COLUMNS;
        int rows = size.getRows() > 0 ? size.getRows() : DEFAULT_ROWS;
        Size fitted = Size.of(columns, rows);
        display.resize(fitted);
        return fitted;
    }

    private void printMessages() {
        for (String message = messages.poll(); message != null; message = messages.poll()) {
            terminal.writer().print(message);
            terminal.writer().print("\r\n");
        }
        terminal.flush();
    }

    /** The display: blob lines, then the overall line, none wider than {@code width}. */
    private List<AttributedString> lines(int width, int rows, long now) {
        sampleRate(now);
        List<Active> blobs = new ArrayList<>(active.values());
        blobs.sort(Comparator.comparingLong((Active blob) -> blob.startNanos).thenComparing(blob -> blob.image));
        int room = Math.max(0, Math.min(MAX_BLOB_LINES, rows - 2));
        int shown = blobs.size() <= room ? blobs.size() : Math.max(0, room - 1);
        List<AttributedString> lines = new ArrayList<>(room + 1);
        long activeBytes = 0;
        for (Active blob : blobs) {
            activeBytes += blob.done.get();
        }
        for (int i = 0; i < shown; i++) {
            lines.add(fit(blobLine(blobs.get(i), width, now), width));
        }
        if (shown < blobs.size() && room > 0) {
            lines.add(fit("  +" + (blobs.size() - shown) + " more", width));
        }
        lines.add(fit(overallLine(bytesFinished.sum() + activeBytes), width));
        return lines;
    }

    /** {@code app:1.2  sha256:ab12cd34ef56…  [#####.....]  12.3 MiB/40.0 MiB  41.0 MiB/s}, the bar and image sized to fit. */
    private static String blobLine(Active blob, int width, long now) {
        long done = blob.done.get();
        String tail = Units.bytes(done) + "/" + Units.bytes(blob.size) + "  "
                + Units.rate(done - blob.offset, now - blob.startNanos);
        int fixed = blob.digest.length() + 2 + tail.length() + 2;
        int imageWidth = Math.max(IMAGE_MIN, Math.min(IMAGE_MAX, width - fixed - BAR_MIN - 2 - 2));
        String image = shorten(blob.image, imageWidth);
        int barWidth = Math.min(BAR_MAX, width - fixed - image.length() - 2 - 2);
        StringBuilder line = new StringBuilder(width).append(image).append("  ").append(blob.digest).append("  ");
        if (barWidth >= BAR_MIN) {
            line.append(bar(done, blob.size, barWidth)).append("  ");
        }
        return line.append(tail).toString();
    }

    /** {@code [#####.....]}, {@code width} columns with the brackets. */
    static String bar(long done, long size, int width) {
        int inside = width - 2;
        double fraction = size <= 0 ? 1 : Math.min(1.0, Math.max(0.0, (double) done / size));
        int filled = (int) Math.floor(fraction * inside);
        return "[" + "#".repeat(filled) + ".".repeat(inside - filled) + "]";
    }

    /** {@code images 3/10 (1 failed)  blobs 12 copied, 4 skipped  1.2 GiB/3.4 GiB  41.0 MiB/s  3m20s left}. */
    private String overallLine(long bytesDone) {
        int failed = imagesFailed.get();
        long planned = bytesPlanned.get();
        StringBuilder line = new StringBuilder("images ").append(imagesDone.get()).append('/').append(imagesPlanned.get());
        if (!planningDone) {
            line.append('+');
        }
        if (failed > 0) {
            line.append(" (").append(failed).append(" failed)");
        }
        line.append("  blobs ").append(blobsCopied.get()).append(" copied, ").append(blobsSkipped.get()).append(" skipped  ")
                .append(Units.bytes(bytesDone)).append('/').append(Units.bytes(planned)).append("  ")
                .append(bytesPerSecond < 0 ? "- B/s" : Units.perSecond(bytesPerSecond));
        if (planningDone && bytesPerSecond > 0) {
            long left = Math.max(0, planned - bytesDone);
            line.append("  ").append(Units.duration((long) Math.ceil(left / bytesPerSecond))).append(" left");
        }
        return line.toString();
    }

    private static String shorten(String text, int width) {
        return text.length() <= width ? text : text.substring(0, Math.max(0, width - 1)) + "…";
    }

    private void sampleRate(long now) {
        long sent = bytesSent.sum();
        if (sampleNanos == Long.MIN_VALUE) {
            sampleNanos = now;
            sampleBytes = sent;
            return;
        }
        long elapsed = now - sampleNanos;
        if (elapsed <= 0) {
            return;
        }
        double instant = (sent - sampleBytes) * 1e9 / elapsed;
        double weight = 1 - Math.exp(-elapsed / EWMA_NANOS);
        bytesPerSecond = bytesPerSecond < 0 ? instant : bytesPerSecond + weight * (instant - bytesPerSecond);
        sampleNanos = now;
        sampleBytes = sent;
    }

    private static AttributedString fit(String line, int width) {
        AttributedString text = new AttributedString(line);
        return text.columnLength() <= width ? text : text.columnSubSequence(0, Math.max(width, 0));
    }
}
