package io.mirrorball.upstream;

import java.util.Map;

/** A small JSON answer of the upstream (tags list, referrers) with the headers to pass on (Link). */
public record UpstreamDocument(int status, String contentType, byte[] body, Map<String, String> headers,
                               boolean stale) {
    public UpstreamDocument {
        headers = Map.copyOf(headers);
    }
}
