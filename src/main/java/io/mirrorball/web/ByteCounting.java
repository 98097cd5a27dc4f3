package io.mirrorball.web;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the body bytes of a request and of its response as they stream (nothing is buffered), with
 * plain servlet wrappers, so that it counts the same under Jetty and in a WAR under Tomcat. Bytes
 * that the container writes itself (its own error pages) are not counted; nothing in mirrorball
 * writes a body through {@code getWriter()}.
 */
final class ByteCounting {
    private ByteCounting() {
    }

    /** The request, whose body stream counts what is read from it. */
    static final class Request extends HttpServletRequestWrapper {
        private final LongAdder read = new LongAdder();
        private ServletInputStream counting;

        Request(HttpServletRequest request) {
            super(request);
        }

        /** Body bytes read so far. */
        long bytes() {
            return read.sum();
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            ServletInputStream in = super.getInputStream();
            if (counting == null) {
                counting = new CountingInput(in, read);
            }
            return counting;
        }
    }

    /** The response, whose body stream counts what is written to it. */
    static final class Response extends HttpServletResponseWrapper {
        private final LongAdder written = new LongAdder();
        private ServletOutputStream counting;

        Response(HttpServletResponse response) {
            super(response);
        }

        /** Body bytes written so far (since the last {@link #reset()}). */
        long bytes() {
            return written.sum();
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            ServletOutputStream out = super.getOutputStream();
            if (counting == null) {
                counting = new CountingOutput(out, written);
            }
            return counting;
        }

        @Override
        public void reset() {
            super.reset();
            written.reset();
        }

        @Override
        public void resetBuffer() {
            super.resetBuffer();
            written.reset();
        }
    }

    private static final class CountingInput extends ServletInputStream {
        private final ServletInputStream in;
        private final LongAdder read;

        CountingInput(ServletInputStream in, LongAdder read) {
            this.in = in;
            this.read = read;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                read.increment();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                read.add(n);
            }
            return n;
        }

        @Override
        public int readLine(byte[] b, int off, int len) throws IOException {
            int n = in.readLine(b, off, len);
            if (n > 0) {
                read.add(n);
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static final class CountingOutput extends ServletOutputStream {
        private final ServletOutputStream out;
        private final LongAdder written;

        CountingOutput(ServletOutputStream out, LongAdder written) {
            this.out = out;
            this.written = written;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            written.increment();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            written.add(len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            out.setWriteListener(listener);
        }
    }
}
