package io.mirrorball.ui;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Times on the page: UTC to the minute, the same for every visitor (and in the {@code datetime} attribute exactly). */
final class TimeText {
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    private TimeText() {
    }

    static String of(Instant time) {
        return FORMAT.format(time.truncatedTo(ChronoUnit.MINUTES));
    }
}
