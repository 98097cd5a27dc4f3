package io.mirrorball.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A program a test fixture runs in the background (Kubo, disco): its output goes to a log file that
 * stays after it stops (next to the surefire reports), and it is stopped on {@link #close} or, at the
 * latest, when the test JVM exits. Stopping is SIGTERM, then SIGKILL after a grace period.
 */
final class Daemon implements AutoCloseable {
    private static final AtomicInteger LOGS = new AtomicInteger();
    private static final int TAIL_CHARS = 4000;

    private final String name;
    private final Process process;
    private final Path log;
    private final Duration grace;
    private final Runnable afterStop;
    private final Thread stopAtExit;
    private boolean closed;

    private Daemon(String name, Process process, Path log, Duration grace, Runnable afterStop) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.grace = grace;
        this.afterStop = afterStop;
        this.stopAtExit = new Thread(this::stop, name + "-stop");
        Runtime.getRuntime().addShutdownHook(stopAtExit);
    }

    /**
     * Starts {@code command} with its output appended to {@code log}.
     *
     * @param name      what it is, for messages and the stopping thread ("Kubo daemon", "disco")
     * @param afterStop runs once it has stopped (e.g. deleting its repository)
     */
    static Daemon start(String name, ProcessBuilder command, Path log, Duration grace, Runnable afterStop)
            throws IOException {
        Process process = command.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new Daemon(name, process, log, grace, afterStop);
    }

    Path log() {
        return log;
    }

    /** Fails, with the end of the log, when the program has exited. */
    void checkAlive() throws IOException {
        if (!process.isAlive()) {
            throw new IOException(name + " exited with " + process.exitValue() + "; log " + log + ": " + tail(log));
        }
    }

    /** The failure of a start that did not finish within {@code timeout}. */
    IOException notReady(Duration timeout) {
        return new IOException(name + " did not start within " + timeout.toSeconds() + " s; log " + log + ": "
                + tail(log));
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException exiting) {
            // the JVM is shutting down: the hook runs (or ran) stop() itself
        }
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        afterStop.run();
    }

    /**
     * A new log file {@code <name>-<pid>-<n>.log} in the folder the system property {@code folderProperty}
     * names (set by pom.xml), or else {@code target/<defaultFolder>}.
     */
    static Path logFile(String folderProperty, String defaultFolder, String name) throws IOException {
        String configured = System.getProperty(folderProperty);
        Path dir = configured != null && !configured.isEmpty() ? Path.of(configured)
                : Path.of(System.getProperty("mirrorball.basedir", ".")).resolve("target").resolve(defaultFolder);
        Files.createDirectories(dir);
        return dir.resolve(name + "-" + ProcessHandle.current().pid() + "-" + LOGS.incrementAndGet() + ".log");
    }

    /** The simple name of the first class on the stack that is not {@code fixture} (the test class). */
    static String callerName(Class<?> fixture, String otherwise) {
        return StackWalker.getInstance().walk(frames -> frames
                .map(StackWalker.StackFrame::getClassName)
                .filter(c -> !c.equals(fixture.getName()) && !c.equals(Daemon.class.getName()))
                .findFirst()
                .map(c -> c.substring(c.lastIndexOf('.') + 1).replace('$', '-'))
                .orElse(otherwise));
    }

    /** The last few thousand characters of a log, for a failure message. */
    static String tail(Path log) {
        try {
            String text = Files.readString(log);
            return text.length() <= TAIL_CHARS ? text : "..." + text.substring(text.length() - TAIL_CHARS);
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }
}
