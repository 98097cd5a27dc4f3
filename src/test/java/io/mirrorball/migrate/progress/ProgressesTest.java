package io.mirrorball.migrate.progress;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.migrate.Progress;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.jline.terminal.Size;
import org.jline.terminal.impl.DumbTerminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.junit.jupiter.api.Test;

final class ProgressesTest {
    private static final Progresses.TerminalOpener NEVER = () -> {
        throw new AssertionError("no terminal should be opened");
    };

    private final PrintWriter err = new PrintWriter(new StringWriter());

    @Test
    void forMode_none_isErrorsOnly() {
        try (Progress progress = Progresses.forMode("none", err, true, "xterm", NEVER)) {
            assertInstanceOf(NoProgress.class, progress);
        }
    }

    @Test
    void forMode_plainOnATerminal_isPlain() {
        try (Progress progress = Progresses.forMode("plain", err, true, "xterm", NEVER)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_autoWithoutConsole_isPlain() {
        try (Progress progress = Progresses.forMode("auto", err, false, "xterm", NEVER)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_autoWithDumbTerm_isPlain() {
        try (Progress progress = Progresses.forMode("auto", err, true, "dumb", NEVER)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_autoWithoutTerm_isPlain() {
        try (Progress progress = Progresses.forMode("auto", err, true, null, NEVER)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_autoOnATerminal_isTerminalDisplay() {
        Progresses.TerminalOpener xterm = () -> {
            ExternalTerminal terminal = new ExternalTerminal("test", "xterm-256color",
                    new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), StandardCharsets.UTF_8);
            terminal.setSize(Size.of(80, 24));
            return terminal;
        };
        try (Progress progress = Progresses.forMode("auto", err, true, "xterm-256color", xterm)) {
            TerminalProgress display = assertInstanceOf(TerminalProgress.class, progress);
            assertTrue(display.thread().isAlive());
        }
    }

    @Test
    void forMode_autoWhenJLineFindsOnlyADumbTerminal_isPlain() {
        Progresses.TerminalOpener dumb = () -> new DumbTerminal(new ByteArrayInputStream(new byte[0]),
                new ByteArrayOutputStream());
        try (Progress progress = Progresses.forMode("auto", err, true, "xterm", dumb)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_autoWhenTheTerminalCannotBeOpened_isPlain() {
        Progresses.TerminalOpener failing = () -> {
            throw new IOException("no native library");
        };
        try (Progress progress = Progresses.forMode("auto", err, true, "xterm", failing)) {
            assertInstanceOf(PlainProgress.class, progress);
        }
    }

    @Test
    void forMode_unknown_namesTheModes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Progresses.forMode("fancy", err, true, "xterm", NEVER));

        assertTrue(e.getMessage().contains("auto, plain, none"), e.getMessage());
    }
}
