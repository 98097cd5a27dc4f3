package io.mirrorball.migrate.source;

import java.io.InputStream;

/**
 * A blob's bytes from a source, starting at {@code offset}: the offset asked for when the source
 * honoured it (an HTTP 206), else 0 (the caller drops what it already has). The stream is not
 * checked against the digest here: the destination checks the whole blob when the upload completes.
 */
public record BlobStream(InputStream in, long offset) implements AutoCloseable {
    @Override
    public void close() throws java.io.IOException {
        in.close();
    }
}
