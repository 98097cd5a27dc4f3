package io.mirrorball.migrate;

import io.mirrorball.oci.Digest;
import java.time.Duration;

/** A {@link Progress} that passes every event to another; subclasses add to some of them. */
class ForwardingProgress implements Progress {
    private final Progress next;

    ForwardingProgress(Progress next) {
        this.next = next;
    }

    @Override
    public void imagePlanned(String source, int blobs, long bytes) {
        next.imagePlanned(source, blobs, bytes);
    }

    @Override
    public void planningDone() {
        next.planningDone();
    }

    @Override
    public void blobStarted(String image, Digest digest, long size, long offset) {
        next.blobStarted(image, digest, size, offset);
    }

    @Override
    public void blobBytes(Digest digest, long bytes) {
        next.blobBytes(digest, bytes);
    }

    @Override
    public void blobDone(Digest digest, long size, boolean skipped) {
        next.blobDone(digest, size, skipped);
    }

    @Override
    public void blobFailed(Digest digest, String reason) {
        next.blobFailed(digest, reason);
    }

    @Override
    public void waiting(String host, Duration wait, String reason) {
        next.waiting(host, wait, reason);
    }

    @Override
    public void warning(String message) {
        next.warning(message);
    }

    @Override
    public void imageDone(ImageResult result) {
        next.imageDone(result);
    }

    @Override
    public void imageFailed(ImageFailure failure) {
        next.imageFailed(failure);
    }

    @Override
    public void close() {
        next.close();
    }
}
