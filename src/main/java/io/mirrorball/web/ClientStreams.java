package io.mirrorball.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The client's side of a request: its body and our response body, with I/O failures marked as
 * {@link ClientGoneException} so that they are never mistaken for a storage failure.
 */
final class ClientStreams {
    private ClientStreams() {
    }

    static InputStream body(HttpServletRequest request) throws IOException {
        return new FilterInputStream(request.getInputStream()) {
            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (IOException e) {
                    throw new ClientGoneException(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (IOException e) {
                    throw new ClientGoneException(e);
                }
            }

            @Override
            public void close() {
                // the container owns the request stream
            }
        };
    }

    static OutputStream output(HttpServletResponse response) throws IOException {
        return new FilterOutputStream(response.getOutputStream()) {
            @Override
            public void write(int b) throws IOException {
                try {
                    out.write(b);
                } catch (IOException e) {
                    throw new ClientGoneException(e);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                } catch (IOException e) {
                    throw new ClientGoneException(e);
                }
            }

            @Override
            public void flush() throws IOException {
                try {
                    out.flush();
                } catch (IOException e) {
                    throw new ClientGoneException(e);
                }
            }

            @Override
            public void close() {
                // the container owns the response stream
            }
        };
    }
}
