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
}
