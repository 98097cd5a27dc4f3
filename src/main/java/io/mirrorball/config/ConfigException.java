package io.mirrorball.config;

/**
 * An invalid configuration. The message always names the offending key, environment variable or file,
 * e.g. {@code storage.uploads.expire-after: invalid duration 'abc' (use e.g. 30s, 5m, 24h)}.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    /** @param key the dotted key, environment variable or file the problem is about */
    public ConfigException(String key, String problem) {
        this(key, problem, null);
    }

    public ConfigException(String key, String problem, Throwable cause) {
        super(key + ": " + problem, cause);
        this.key = key;
    }

    /** The dotted key (or variable or file name) the problem is about. */
    public String key() {
        return key;
    }
}
