package io.mirrorball.migrate.progress;

import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.ImageResult;
import io.mirrorball.migrate.Progress;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Objects;

/** {@code --progress none}: only what the operator must see, image failures and warnings, one line each. */
public final class NoProgress implements Progress {
    private final PrintWriter out;

    private NoProgress(PrintWriter out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /** Writes to {@code out} (standard error in the CLI), which it flushes but never closes. */
    public static NoProgress to(PrintWriter out) {
        return new NoProgress(out);
    }

    @Override
    public void imagePlanned(String source, int blobs, long bytes) {
    }

    @Override
    public void planningDone() {
    }

    @Override
    public void blobStarted(String image, Digest digest, long size, long offset) {
    }

    @Override
    public void blobBytes(Digest digest, long bytes) {
    }

    @Override
    public void blobDone(Digest digest, long size, boolean skipped) {
    }

    /** Not printed: the image's failure, printed too, carries the reason. */
    @Override
    public void blobFailed(Digest digest, String reason) {
    }

    @Override
    public void waiting(String host, Duration wait, String reason) {
    }

    @Override
    public void warning(String message) {
        line(Lines.warning(message));
    }

    @Override
    public void imageDone(ImageResult result) {
    }

    @Override
    public void imageFailed(ImageFailure failure) {
        line(Lines.failed(failure));
    }

    @Override
    public void close() {
        synchronized (out) {
            out.flush();
        }
    }

    private void line(String text) {
        synchronized (out) {
            out.println(text);
            out.flush();
        }
    }
}
