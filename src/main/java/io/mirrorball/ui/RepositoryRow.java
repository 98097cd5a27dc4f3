package io.mirrorball.ui;

/**
 * One repository in the listing.
 *
 * @param name     the name a client pulls it by
 * @param kind     {@code pushed}, {@code upstream} (pulled through, a cache of {@code upstream}) or
 *                 {@code content-addressed} (an image named by its CID)
 * @param upstream the upstream's name for kind {@code upstream}, else null
 * @param tags     how many tags it has here, or {@link #NOT_COUNTED} (content-addressed ones)
 */
public record RepositoryRow(String name, String kind, String upstream, int tags) {
    static final String PUSHED = "pushed";
    static final String UPSTREAM = "upstream";
    static final String CONTENT_ADDRESSED = "content-addressed";
    static final int NOT_COUNTED = -1;

    /** What the tags column says. */
    public String tagsText() {
        return tags == NOT_COUNTED ? "" : Integer.toString(tags);
    }

    /** What the kind column says. */
    public String kindText() {
        return kind.equals(UPSTREAM) ? "cache of " + upstream : kind;
    }
}
