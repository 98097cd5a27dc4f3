package io.mirrorball.ipfs.kubo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.apache.hc.core5.http.message.BasicNameValuePair;

/**
 * A multipart/form-data body with one part named {@code file}, streamed with chunked transfer
 * encoding: the framing is written around the content, which is copied as it is read and never
 * buffered whole. Optional {@code prefix} bytes go before the stream (a CAR header already read).
 *
 * <p>It counts the content bytes it sent, and it remembers a failure to read the source stream, so
 * that the caller can tell the source's fault from the node's. The source stream is not closed.
 */
final class KuboMultipart extends AbstractHttpEntity {
    private static final int BUFFER = 64 * 1024;

    private final String boundary;
    private final byte[] prefix;
    private final InputStream content;
    private long sent;
    private IOException sourceFailure;
    private boolean written;

    private KuboMultipart(String boundary, byte[] prefix, InputStream content) {
        super(ContentType.create("multipart/form-data", new BasicNameValuePair("boundary", boundary)), null, true);
        this.boundary = boundary;
        this.prefix = prefix;
        this.content = content;
    }

    /** A body that streams {@code content} (not closed), after {@code prefix}. */
    static KuboMultipart of(byte[] prefix, InputStream content) {
        return new KuboMultipart("mirrorball-" + UUID.randomUUID(), prefix.clone(), content);
    }

    static KuboMultipart of(InputStream content) {
        return of(new byte[0], content);
    }

    /** Content bytes written so far (prefix included). */
    long sent() {
        return sent;
    }

    /** The exception thrown by the source stream, or null. */
    IOException sourceFailure() {
        return sourceFailure;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        if (written) {
            throw new IllegalStateException("a streaming multipart body can be sent only once");
        }
        written = true;
        out.write(("--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"data\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(prefix);
        sent = prefix.length;
        byte[] buffer = new byte[BUFFER];
        while (true) {
            int n;
            try {
                n = content.read(buffer);
            } catch (IOException e) {
                sourceFailure = e;
                throw e;
            }
            if (n < 0) {
                break;
            }
            out.write(buffer, 0, n);
            sent += n;
        }
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public InputStream getContent() {
        throw new UnsupportedOperationException("a streaming multipart body is written, not read");
    }

    @Override
    public long getContentLength() {
        return -1;
    }

    @Override
    public boolean isRepeatable() {
        return false;
    }

    @Override
    public boolean isStreaming() {
        return !written;
    }

    @Override
    public void close() {
        // the source stream belongs to the caller
    }
}
