package io.mirrorball.migrate.progress;

import io.mirrorball.oci.Digest;
import java.util.Locale;

/** Human-readable sizes, rates, durations and digests, the same in every renderer and the report. */
public final class Units {
    private static final String[] BINARY = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final int SHORT_HEX = 12;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Units() {
    }

    /** {@code 512 B}, {@code 8.0 KiB}, {@code 12.3 MiB}, {@code 1.5 GiB}: binary units, one decimal. */
    public static String bytes(long bytes) {
        if (bytes < 1024) {
            return Math.max(bytes, 0) + " B";
        }
        double value = bytes;
        int unit = -1;
        // 1023.96 KiB would print as "1024.0 KiB": step up before rounding reaches the next unit
        while (value >= 1024 * 0.99995 && unit < BINARY.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, BINARY[unit]);
    }

    /** Bytes per second over {@code nanos}, as {@code 41.0 MiB/s}; {@code -} when no time has passed. */
    static String rate(long bytes, long nanos) {
        if (nanos <= 0) {
            return "- B/s";
        }
        return perSecond(bytes * 1.0 * NANOS_PER_SECOND / nanos);
    }

    /** A rate already in bytes per second. */
    static String perSecond(double bytesPerSecond) {
        if (!(bytesPerSecond >= 0) || Double.isInfinite(bytesPerSecond)) {
            return "- B/s";
        }
        return bytes(Math.round(bytesPerSecond)) + "/s";
    }

    /** {@code 37 s}, {@code 4m05s}, {@code 2h03m}. */
    static String duration(long seconds) {
        long s = Math.max(seconds, 0);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    /** {@code sha256:ab12cd34ef56…}: the algorithm and the first 12 hex digits. */
    static String shortDigest(Digest digest) {
        return digest.algorithm() + ":" + digest.hex().substring(0, SHORT_HEX) + "…";
    }
}
