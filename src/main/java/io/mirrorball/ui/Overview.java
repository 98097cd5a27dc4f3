package io.mirrorball.ui;

import java.util.List;

/**
 * The registry at a glance.
 *
 * @param storage      the bytes of every blob held, as people read them
 * @param blobs        how many blobs are held
 * @param repositories how many repositories the visitor sees
 */
public record Overview(String storage, long blobs, int repositories, List<UpstreamRow> upstreams,
                       List<PublishRow> recent) {
    public Overview {
        upstreams = List.copyOf(upstreams);
        recent = List.copyOf(recent);
    }

    /**
     * One upstream.
     *
     * @param hitRate   pulls answered without fetching, as a percentage ("–" before the first pull)
     * @param state     {@code ok}, {@code rate-limited}, {@code failing} or {@code unknown}
     * @param rateLimit what the upstream last said of its rate limit, or ""
     */
    public record UpstreamRow(String name, String address, String hitRate, String state, String rateLimit) {
    }

    /** A recent push and the CID it was published under (null when none). */
    public record PublishRow(String repository, String tag, String digest, String cid, String timeText,
                             String timeIso) {
        public String reference() {
            return repository + (tag != null ? ":" + tag : "@" + digest);
        }
    }
}
