package io.mirrorball.log;

import static net.logstash.logback.argument.StructuredArguments.keyValue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Event lines: one per publish, clone, delete or garbage collection, on the logger
 * {@value #LOGGER}, message {@code <kind> key=value ...}, e.g.
 * {@code publish repository=app digest=sha256:.. cid=bafy.. duration_ms=41}. In the JSON format each
 * key is also a field of the line, next to {@code event} (the kind).
 */
public final class Events {
    /** The logger of every event line. */
    public static final String LOGGER = "mirrorball.event";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private Events() {
    }

    /**
     * Writes one event line at info level.
     *
     * @param kind   {@code publish}, {@code clone}, {@code delete}, {@code gc}, ...
     * @param fields names and values, alternately ({@code "cid", cid, "duration_ms", 41})
     */
    public static void log(String kind, Object... fields) {
        if (fields.length % 2 != 0) {
            throw new IllegalArgumentException("fields come in name, value pairs: " + fields.length + " given");
        }
        if (!LOG.isInfoEnabled()) {
            return;
        }
        StringBuilder format = new StringBuilder("{}");
        Object[] arguments = new Object[fields.length / 2 + 1];
        arguments[0] = keyValue("event", kind, "{1}");
        for (int i = 0; i < fields.length; i += 2) {
            format.append(" {}");
            arguments[i / 2 + 1] = keyValue(String.valueOf(fields[i]), fields[i + 1] == null ? "-"
                    : fields[i + 1].toString());
        }
        LOG.info(format.toString(), arguments);
    }
}
