package io.mirrorball.ui;

import io.mirrorball.oci.Digest;
import java.time.Instant;

/**
 * One tag of a repository.
 *
 * @param facts the image's facts; null when the store does not hold its manifest (an upstream tag whose
 *              manifest was removed by retention)
 * @param time  when it was pushed here (pushed repositories) or last pulled (upstream ones); null when
 *              not known
 */
public record TagRow(String tag, Digest digest, ImageFacts facts, Instant time) {
    public String mediaTypeText() {
        return facts == null ? "" : facts.kind();
    }

    public String platformsText() {
        return facts == null ? "" : facts.platformsText();
    }

    public String sizeText() {
        return facts == null ? "" : facts.sizeText();
    }

    public String timeText() {
        return time == null ? "" : TimeText.of(time);
    }

    public String timeIso() {
        return time == null ? "" : time.toString();
    }
}
