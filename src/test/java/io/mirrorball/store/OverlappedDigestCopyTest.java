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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The verified copy that hashes on a second thread: same guarantees as the copy on one thread. */
final class OverlappedDigestCopyTest {
    private final OverlappedDigestCopy copy = new OverlappedDigestCopy();
    private final byte[] blob = new byte[(int) OverlappedDigestCopy.MIN_SIZE + 3 * OverlappedDigestCopy.BUFFER + 17];

    {
        new Random(7).nextBytes(blob);
    }

    @AfterEach
    void close() {
        copy.close();
    }

    @Test
    void copyVerified_rightBytes_copiesEveryByte() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy.copyVerified(new ByteArrayInputStream(blob), out, Digest.ofBytes(blob), blob.length, "blob");
        assertArrayEquals(blob, out.toByteArray());
    }

    @Test
    void copyVerified_oneByteDiffers_failsAndWithholdsTheLastBuffer() {
        byte[] tampered = blob.clone();
        tampered[tampered.length - 1] ^= 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        IpfsException e = assertThrows(IpfsException.class, () -> copy.copyVerified(new ByteArrayInputStream(tampered),
                out, Digest.ofBytes(blob), blob.length, "blob"));
        assertEquals(IpfsException.Kind.CORRUPT, e.kind());
        assertTrue(out.size() < blob.length, "sent " + out.size() + " of " + blob.length);
    }

    @Test
    void copyVerified_tooShortOrTooLong_isCorrupt() {
        byte[] shorter = Arrays.copyOf(blob, blob.length - 1);
        byte[] longer = Arrays.copyOf(blob, blob.length + 1);
        for (byte[] content : new byte[][] {shorter, longer}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            IpfsException e = assertThrows(IpfsException.class, () -> copy.copyVerified(
                    new ByteArrayInputStream(content), out, Digest.ofBytes(blob), blob.length, "blob"));
            assertEquals(IpfsException.Kind.CORRUPT, e.kind());
            assertTrue(out.size() < blob.length);
        }
    }

    @Test
    void copyVerified_readFails_reportsTheReadersFailure() {
        InputStream failing = new InputStream() {
            private int left = 2 * OverlappedDigestCopy.BUFFER;

            @Override
            public int read() throws IOException {
                if (left-- <= 0) {
                    throw new IOException("disk gone");
                }
                return 1;
            }
        };
        IOException e = assertThrows(IOException.class, () -> copy.copyVerified(failing, OutputStream.nullOutputStream(),
                Digest.ofBytes(blob), blob.length, "blob"));
        assertEquals("disk gone", e.getMessage());
    }

    @Test
    void copyVerified_clientGone_stopsTheReaderAndLeavesNoThreadBusy() throws Exception {
        OutputStream gone = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("connection reset");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("connection reset");
            }
        };
        for (int i = 0; i < 2 * OverlappedDigestCopy.MAX_THREADS; i++) {
            assertThrows(IOException.class, () -> copy.copyVerified(new ByteArrayInputStream(blob), gone,
                    Digest.ofBytes(blob), blob.length, "blob"));
        }
        long deadline = System.nanoTime() + 5_000_000_000L; // a worker turns idle just after its task ends
        while (copy.busyThreads() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, copy.busyThreads(), "every reader stopped when its copy ended");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy.copyVerified(new ByteArrayInputStream(blob), out, Digest.ofBytes(blob), blob.length, "blob");
        assertArrayEquals(blob, out.toByteArray());
    }
}
