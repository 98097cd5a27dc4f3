package io.mirrorball.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.mirrorball.config.MirrorballConfig;
import java.util.Locale;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code log.level} and {@code log.format} to Logback once the configuration is loaded.
 * Until then src/main/resources/logback.xml holds: text lines on standard error at the level of
 * the system property {@value #LEVEL_PROPERTY} (default info). That property, when set, also wins
 * over {@code log.level}.
 *
 * <p>The JSON format writes one object per line: {@code timestamp}, {@code level}, {@code logger},
 * {@code thread}, {@code message}, the request id ({@code request_id}) of lines written while a
 * request is handled, {@code stack_trace}, and the fields that access and event lines pass as
 * structured arguments ({@code status}, {@code bytes_out}, {@code cid}, ...).
 */
public final class Logging {
    /** The JVM option that sets the level before the configuration is read, and over it. */
    public static final String LEVEL_PROPERTY = "mirrorball.log.level";
    /** The text line of logback.xml: every line has a timestamp and a level. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %level [%thread] %logger - %msg%n";
    /** The appender of logback.xml. */
    private static final String APPENDER = "stderr";

    private Logging() {
    }

    /**
     * Sets the level and the format of every line from now on. Does nothing when the logging backend
     * is not Logback (a container that brings its own binding keeps its own configuration).
     */
    public static void apply(MirrorballConfig.Log log) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        String property = System.getProperty(LEVEL_PROPERTY);
        String level = property != null && !property.isBlank() ? property : log.level();
        root.setLevel(Level.toLevel(level.toUpperCase(Locale.ROOT), Level.INFO));
        if (root.getAppender(APPENDER) instanceof ConsoleAppender<ILoggingEvent> old) {
            // the new appender joins before the old one leaves: no line is lost in between
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(context);
            console.setName(APPENDER);
            console.setTarget("System.err");
            console.setEncoder(log.json() ? json(context) : text(context));
            console.start();
            root.addAppender(console);
            root.detachAppender(old);
            old.stop();
        }
    }

    private static Encoder<ILoggingEvent> text(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(TEXT_PATTERN);
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> json(LoggerContext context) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        LogstashFieldNames names = encoder.getFieldNames();
        names.setTimestamp("timestamp");
        names.setLogger("logger");
        names.setThread("thread");
        names.setVersion("[ignore]");
        names.setLevelValue("[ignore]");
        names.setStackTrace("stack_trace");
        encoder.start();
        return encoder;
    }
}
