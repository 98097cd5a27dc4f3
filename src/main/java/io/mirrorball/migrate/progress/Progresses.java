package io.mirrorball.migrate.progress;

import io.mirrorball.migrate.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Picks the renderer for {@code --progress auto|plain|none}. */
public final class Progresses {
    /** The values {@code --progress} takes, the default first. */
    public static final List<String> MODES = List.of("auto", "plain", "none");

    /** Opens the terminal a display draws on. */
    @FunctionalInterface
    interface TerminalOpener {
        Terminal open() throws IOException;
    }

    private Progresses() {
    }

    /**
     * {@code auto}: a {@link TerminalProgress} when standard error is a terminal that is not dumb
     * ({@code System.console()} is there and {@code TERM} is set and not {@code dumb}), else plain lines;
     * {@code plain}: a {@link PlainProgress} on {@code err}; {@code none}: failures and warnings only, on
     * {@code err}. Anything else is an {@link IllegalArgumentException} naming the values allowed.
     */
    public static Progress forMode(String mode, PrintWriter err) {
        return forMode(mode, err, System.console() != null, System.getenv("TERM"), Progresses::systemTerminal);
    }

    static Progress forMode(String mode, PrintWriter err, boolean console, String term, TerminalOpener opener) {
        if (mode == null || !MODES.contains(mode)) {
            throw new IllegalArgumentException("--progress must be one of " + String.join(", ", MODES) + ", not "
                    + Lines.clean(mode));
        }
        return switch (mode) {
            case "none" -> NoProgress.to(err);
            case "plain" -> PlainProgress.to(err);
            default -> auto(err, console, term, opener);
        };
    }

    private static Progress auto(PrintWriter err, boolean console, String term, TerminalOpener opener) {
        if (!console || term == null || term.isBlank() || term.startsWith("dumb")) {
            return PlainProgress.to(err);
        }
        Terminal terminal;
        try {
            terminal = opener.open();
        } catch (IOException | RuntimeException e) {
            // no usable terminal after all (no native access, stderr redirected): plain lines say the same
            return PlainProgress.to(err);
        }
        if (terminal.getType() == null || terminal.getType().startsWith("dumb")) {
            try {
                terminal.close();
            } catch (IOException e) {
                // a dumb terminal holds nothing to release; the plain lines go to err regardless
            }
            return PlainProgress.to(err);
        }
        return TerminalProgress.start(terminal);
    }

    private static Terminal systemTerminal() throws IOException {
        return TerminalBuilder.builder()
                .name("mirrorball")
                .system(true)
                .systemOutput(TerminalBuilder.SystemOutput.SysErr)
                .ffm(false) // needs Java 22; the JNI provider serves Java 17
                .dumb(true) // no warning when there is no terminal: forMode falls back to plain lines
                .build();
    }
}
