package io.mirrorball.upstream;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The client's side of a streamed answer. Status and headers are set first; {@link #body()} commits
 * them. A write to the body that fails means the client went away.
 */
public interface ResponseSink {
    void status(int status);

    void header(String name, String value);

    void contentLength(long length);

    OutputStream body() throws IOException;

    /** A byte range of a blob: {@code length} bytes from {@code offset}. */
    record Slice(long offset, long length) {
    }

    /**
     * The part of a blob of {@code size} bytes that the client asked for, or null for all of it. Throws the
     * client's error (416) for a range the blob cannot satisfy.
     */
    default Slice range(long size) {
        return null;
    }
}
