package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReadAheadTest {
    private final ExecutorService readers = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws InterruptedException {
        readers.shutdownNow();
        assertTrue(readers.awaitTermination(10, TimeUnit.SECONDS), "a reader thread did not end");
    }

    private static byte[] bytes(int size) {
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        return content;
    }

    private static Digest digestOf(byte[] content) {
        return Digest.ofBytes(content);
    }

    /** Hands out at most {@code max} bytes per read, as a socket does. */
    private static InputStream trickle(byte[] content, int max) {
        return new ByteArrayInputStream(content) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, max));
            }
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, StreamCopy.BUFFER - 1, StreamCopy.BUFFER, StreamCopy.BUFFER + 1,
            ReadAhead.BUFFERS * StreamCopy.BUFFER, 3_000_001})
    void copiesEveryByteInOrder(int size) throws Exception {
        byte[] content = bytes(size);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReadAhead.copyVerified(readers, trickle(content, 7_919), out, digestOf(content), size, "test");
        assertArrayEquals(content, out.toByteArray());
    }

    @Test
    void wrongContentIsRefusedAndItsLastBytesWithheld() throws Exception {
        byte[] content = bytes(3 * StreamCopy.BUFFER + 10);
        Digest digest = digestOf(content);
        byte[] corrupt = content.clone();
        corrupt[corrupt.length - 1] ^= 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        IpfsException e = assertThrows(IpfsException.class, () -> ReadAhead.copyVerified(readers,
                new ByteArrayInputStream(corrupt), out, digest, content.length, "test"));
        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
        assertTrue(out.size() < content.length, "every byte of a wrong blob was sent: " + out.size());
        assertArrayEquals(Arrays.copyOf(content, out.size()), out.toByteArray());
    }

    @Test
    void shortAndLongContentAreRefused() throws Exception {
        byte[] content = bytes(2 * StreamCopy.BUFFER);
        Digest digest = digestOf(content);
        IpfsException shorter = assertThrows(IpfsException.class, () -> ReadAhead.copyVerified(readers,
                new ByteArrayInputStream(content, 0, content.length - 1), OutputStream.nullOutputStream(), digest,
                content.length, "test"));
        assertTrue(shorter.getMessage().contains("expected"), shorter.getMessage());
        IpfsException longer = assertThrows(IpfsException.class, () -> ReadAhead.copyVerified(readers,
                new ByteArrayInputStream(content), OutputStream.nullOutputStream(), digest, content.length - 1, "test"));
        assertTrue(longer.getMessage().contains("more than"), longer.getMessage());
    }

    @Test
    void aFailingReadEndsTheCopyWithThatFailure() throws Exception {
        byte[] content = bytes(5 * StreamCopy.BUFFER);
        InputStream broken = new InputStream() {
            private int left = StreamCopy.BUFFER + 5;

            @Override
            public int read() throws IOException {
                if (left-- <= 0) {
                    throw new IOException("connection reset by the node");
                }
                return 0;
            }
        };
        IOException e = assertThrows(IOException.class, () -> ReadAhead.copyVerified(readers, broken,
                OutputStream.nullOutputStream(), digestOf(content), content.length, "test"));
        assertEquals("connection reset by the node", e.getMessage());
    }

    @Test
    void aClientThatGoesAwayStopsTheReader() throws Exception {
        AtomicLong read = new AtomicLong();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                read.incrementAndGet();
                return 1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                read.addAndGet(len);
                return len;
            }
        };
        OutputStream closed = new OutputStream() {
            private int writes;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (++writes == 2) {
                    throw new IOException("broken pipe");
                }
            }
        };
        Digest digest = digestOf(new byte[0]);
        IOException e = assertThrows(IOException.class, () -> ReadAhead.copyVerified(readers, endless, closed, digest,
                1L << 40, "test"));
        assertEquals("broken pipe", e.getMessage());
        Thread.sleep(200);
        long after = read.get();
        Thread.sleep(200);
        assertEquals(after, read.get(), "the reader kept reading after the client went away");
        assertTrue(after <= (ReadAhead.BUFFERS + 2L) * StreamCopy.BUFFER, "read ahead too far: " + after);
    }
}
