package io.mirrorball.upstream;

import io.mirrorball.oci.Digest;

/**
 * A manifest as the upstream serves it. {@code content} is null for the answer to a HEAD whose bytes
 * were not fetched. {@code stale} is true when it was served from cache because the upstream failed.
 * {@code cached} is true when it was answered from memory or the store without asking the upstream.
 */
public record UpstreamManifest(Digest digest, String mediaType, long size, byte[] content, boolean stale,
                               boolean cached) {
}
