package io.mirrorball.migrate.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.jline.utils.AttributedString;
import org.jline.utils.ScreenTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class TerminalProgressTest {
    private static final long MIB = 1024 * 1024;
    private static final long SECOND = 1_000_000_000L;
    private static final Digest BLOB = Digest.sha256("ab12cd34ef56" + "0".repeat(52));

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final AtomicLong nanos = new AtomicLong(SECOND);
    private Terminal terminal;
    private TerminalProgress progress;

    private TerminalProgress open(int columns, int rows) throws IOException {
        // written through synchronously (no pty and no pump thread), so the output is complete after render()
        terminal = new ExternalTerminal("test", "xterm-256color", new ByteArrayInputStream(new byte[0]), output,
                StandardCharsets.UTF_8);
        terminal.setSize(Size.of(columns, rows));
        progress = TerminalProgress.create(terminal, nanos::get);
        return progress;
    }

    @AfterEach
    void closeProgress() {
        if (progress != null) {
            progress.close();
        }
    }

    private static List<String> text(List<AttributedString> lines) {
        return lines.stream().map(AttributedString::toString).toList();
    }

    /** What a terminal of this size shows after the bytes written so far. */
    private String screen(int columns, int rows) {
        ScreenTerminal screen = new ScreenTerminal(columns, rows);
        screen.write(output.toString(StandardCharsets.UTF_8));
        return screen.toString();
    }

    @Test
    void render_activeBlob_showsImageDigestBarBytesAndRate() throws IOException {
        open(100, 24);
        progress.imagePlanned("app:1.2", 1, 40 * MIB);
        progress.blobStarted("app:1.2", BLOB, 40 * MIB, 0);
        progress.blobBytes(BLOB, 10 * MIB);
        nanos.addAndGet(2 * SECOND);

        List<String> lines = text(progress.render());

        assertEquals(2, lines.size(), lines.toString());
        String blob = lines.get(0);
        assertTrue(blob.startsWith("app:1.2  sha256:ab12cd34ef56…  ["), blob);
        assertTrue(blob.contains("10.0 MiB/40.0 MiB  5.0 MiB/s"), blob);
        String bar = blob.substring(blob.indexOf('['), blob.indexOf(']') + 1);
        assertEquals(30, bar.length(), bar);
        assertEquals(7, bar.chars().filter(c -> c == '#').count(), bar);
        assertTrue(screen(100, 24).contains("sha256:ab12cd34ef56"), "drawn on the terminal");
    }

    @Test
    void render_overallLine_showsImagesBlobsBytesRateAndTimeLeft() throws IOException {
        open(120, 24);
        progress.imagePlanned("app:1.2", 2, 30 * MIB);
        progress.imagePlanned("app:1.3", 1, 10 * MIB);
        progress.planningDone();
        progress.render();
        progress.blobStarted("app:1.2", BLOB, 10 * MIB, 0);
        progress.blobBytes(BLOB, 10 * MIB);
        progress.blobDone(BLOB, 10 * MIB, false);
        progress.blobDone(Digest.sha256("1".repeat(64)), 20 * MIB, true);
        nanos.addAndGet(5 * SECOND);

        List<String> lines = text(progress.render());

        assertEquals(List.of("images 0/2  blobs 1 copied, 1 skipped  30.0 MiB/40.0 MiB  2.0 MiB/s  5 s left"), lines);
    }

    @Test
    void render_beforePlanningDone_marksTotalsOpenAndShowsNoTimeLeft() throws IOException {
        open(120, 24);
        progress.imagePlanned("app:1.2", 1, 10 * MIB);
        progress.imageFailed(new ImageFailure("app:1.1", FailureKind.NOT_FOUND, "manifest unknown"));
        progress.render();
        progress.blobStarted("app:1.2", BLOB, 10 * MIB, 0);
        progress.blobBytes(BLOB, MIB);
        nanos.addAndGet(SECOND);

        String overall = text(progress.render()).get(1);

        assertEquals("images 0/1+ (1 failed)  blobs 0 copied, 0 skipped  1.0 MiB/10.0 MiB  1.0 MiB/s", overall);
    }

    @Test
    void render_resumedBlob_countsOffsetAsDoneButNotInRate() throws IOException {
        open(100, 24);
        progress.blobStarted("app:1.2", BLOB, 16 * MIB, 8 * MIB);
        progress.blobBytes(BLOB, 2 * MIB);
        nanos.addAndGet(SECOND);

        String blob = text(progress.render()).get(0);

        assertTrue(blob.contains("10.0 MiB/16.0 MiB  2.0 MiB/s"), blob);
    }

    @Test
    void render_manyBlobs_capsAtEightLinesWithMore() throws IOException {
        open(100, 40);
        for (int i = 0; i < 12; i++) {
            progress.blobStarted("app:" + i, Digest.sha256(String.format("%064x", i)), MIB, 0);
            nanos.incrementAndGet();
        }

        List<String> lines = text(progress.render());

        assertEquals(TerminalProgress.MAX_BLOB_LINES + 1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("app:0  "), lines.get(0));
        assertEquals("  +5 more", lines.get(TerminalProgress.MAX_BLOB_LINES - 1));
        assertTrue(lines.get(TerminalProgress.MAX_BLOB_LINES).startsWith("images "));
    }

    @Test
    void render_fewRows_keepsTheDisplayShorterThanTheTerminal() throws IOException {
        open(100, 5);
        for (int i = 0; i < 6; i++) {
            progress.blobStarted("app:" + i, Digest.sha256(String.format("%064x", i)), MIB, 0);
        }

        List<String> lines = text(progress.render());

        assertEquals(4, lines.size(), lines.toString());
        assertEquals("  +4 more", lines.get(2));
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 30, 50, 80, 200})
    void render_anyWidth_noLineReachesTheWidth(int columns) throws IOException {
        open(columns, 24);
        progress.imagePlanned("registry.example/some/deeply/nested/repository:with-a-long-tag", 1, 123_456_789L);
        progress.planningDone();
        progress.blobStarted("registry.example/some/deeply/nested/repository:with-a-long-tag", BLOB, 123_456_789L, 0);
        progress.blobBytes(BLOB, 12_345_678L);
        nanos.addAndGet(SECOND);

        List<AttributedString> lines = progress.render();

        for (AttributedString line : lines) {
            assertTrue(line.columnLength() < columns, columns + ": " + line);
        }
    }

    @Test
    void render_afterResize_followsTheNewWidth() throws IOException {
        open(120, 24);
        progress.blobStarted("registry.example/team/app:1.2", BLOB, 40 * MIB, 0);
        progress.blobBytes(BLOB, 20 * MIB);
        String wide = text(progress.render()).get(0);

        terminal.setSize(Size.of(60, 24));
        String narrow = text(progress.render()).get(0);

        assertTrue(wide.length() > 60, wide);
        assertTrue(narrow.length() < 60, narrow);
        assertTrue(narrow.contains("sha256:ab12cd34ef56…"), narrow);
    }

    @Test
    void render_failureAndWarning_printedAboveTheDisplayOnce() throws IOException {
        open(100, 24);
        progress.blobStarted("app:1.2", BLOB, 10 * MIB, 0);
        progress.render();
        progress.warning("Docker Hub: 7 pulls left");
        progress.imageFailed(new ImageFailure("docker://x/y:1", FailureKind.NOT_FOUND, "manifest unknown"));

        List<String> lines = text(progress.render());
        progress.render();

        assertFalse(lines.stream().anyMatch(line -> line.contains("warning")), lines.toString());
        String screen = screen(100, 24);
        int warning = screen.indexOf("warning: Docker Hub: 7 pulls left");
        int failure = screen.indexOf("failed docker://x/y:1 NOT_FOUND: manifest unknown");
        int blob = screen.indexOf("sha256:ab12cd34ef56");
        assertTrue(warning >= 0 && failure > warning && blob > failure, screen);
        assertEquals(warning, screen.lastIndexOf("warning: Docker Hub"), "printed once: " + screen);
    }

    @Test
    void blobDone_removesItsLine() throws IOException {
        open(100, 24);
        progress.blobStarted("app:1.2", BLOB, 10, 0);
        progress.blobBytes(BLOB, 10);
        progress.blobDone(BLOB, 10, false);

        List<String> lines = text(progress.render());

        assertEquals(1, lines.size(), lines.toString());
        assertFalse(screen(100, 24).contains("sha256:ab12cd34ef56"));
    }

    @Test
    void close_running_stopsTheThreadAndErasesTheDisplay() throws IOException, InterruptedException {
        open(100, 24);
        progress.blobStarted("app:1.2", BLOB, 10 * MIB, 0);
        progress.startRedrawing();
        Thread redraw = progress.thread();
        assertEquals(TerminalProgress.THREAD_NAME, redraw.getName());
        assertTrue(redraw.isDaemon());
        progress.render();
        progress.warning("kept after close");

        progress.close();

        assertFalse(redraw.isAlive());
        String screen = screen(100, 24);
        assertFalse(screen.contains("sha256:ab12cd34ef56"), screen);
        assertFalse(screen.contains("images "), screen);
        assertTrue(screen.contains("warning: kept after close"), screen);
        assertEquals(List.of(), progress.render());
    }

    @Test
    void blobBytes_fromManyThreads_countsEveryByte() throws IOException, InterruptedException {
        open(100, 24);
        progress.blobStarted("app:1.2", BLOB, 64 * MIB, 0);
        List<Thread> senders = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread sender = new Thread(() -> {
                for (int i = 0; i < 4096; i++) {
                    progress.blobBytes(BLOB, 1024);
                }
            }, "test-sender-" + t);
            senders.add(sender);
            sender.start();
        }
        for (Thread sender : senders) {
            sender.join();
        }

        String blob = text(progress.render()).get(0);

        assertTrue(blob.contains("16.0 MiB/64.0 MiB"), blob);
    }

    @Test
    void render_rateAfterAPause_decaysOverAboutFiveSeconds() throws IOException {
        open(120, 24);
        progress.blobStarted("app:1.2", BLOB, 100 * MIB, 0);
        progress.render();
        progress.blobBytes(BLOB, 10 * MIB);
        nanos.addAndGet(5 * SECOND);
        String busy = text(progress.render()).get(1);
        nanos.addAndGet(5 * SECOND);

        String paused = text(progress.render()).get(1);

        assertTrue(busy.endsWith("2.0 MiB/s"), busy);
        // nothing sent for 5 s: the average keeps e^-1 of what it was, 2.0 MiB/s × 0.368
        assertTrue(paused.endsWith("753.4 KiB/s"), paused);
    }
}
