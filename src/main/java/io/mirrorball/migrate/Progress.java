package io.mirrorball.migrate;

import io.mirrorball.oci.Digest;
import java.time.Duration;

/**
 * What a migration tells the person running it, as it happens. The copy engine calls these from
 * several threads at once; implementations are thread-safe and cheap ({@link #blobBytes} is called
 * for every buffer copied), and never throw. Renderers: a terminal display (one line per blob in
 * flight and an overall line), plain lines (one per event), or nothing but errors.
 */
public interface Progress extends AutoCloseable {
    /** The planner found one more image to copy, with this many blobs of this many bytes not yet known to be present. */
    void imagePlanned(String source, int blobs, long bytes);

    /** The planner has listed every source: totals are final and a time left can be shown. */
    void planningDone();

    /** A blob's copy starts at {@code offset} (above 0 when an interrupted copy resumes). */
    void blobStarted(String image, Digest digest, long size, long offset);

    /** {@code bytes} more of the blob were sent to the destination. */
    void blobBytes(Digest digest, long bytes);

    /** The blob is at the destination: copied, or skipped because it was there already. */
    void blobDone(Digest digest, long size, boolean skipped);

    /** A blob copy failed (the image's failure is reported separately). */
    void blobFailed(Digest digest, String reason);

    /** All copy jobs for {@code host} pause for {@code wait}, because of {@code reason} (a 429, a 503). */
    void waiting(String host, Duration wait, String reason);

    /** A warning for the operator (a Docker Hub rate limit running low, a session left over). */
    void warning(String message);

    void imageDone(ImageResult result);

    void imageFailed(ImageFailure failure);

    /** Stops drawing (a terminal display erases its lines); the summary is printed after this. */
    @Override
    void close();
}
