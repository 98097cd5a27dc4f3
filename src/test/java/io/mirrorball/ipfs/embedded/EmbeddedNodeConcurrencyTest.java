package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several threads write MFS while others list and read it. */
final class EmbeddedNodeConcurrencyTest {
    private static final int WRITERS = 4;
    private static final int READERS = 3;
    private static final int FILES_PER_WRITER = 30;

    @TempDir
    Path dir;

    @Test
    void filesOps_concurrentWritersAndReaders_noLostUpdatesAndConsistentReads() throws Exception {
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS,
                r -> new Thread(r, "embedded-concurrency-test-" + threadNumber.incrementAndGet()));
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong filesRead = new AtomicLong();
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("node"))) {
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < FILES_PER_WRITER; i++) {
                        int seed = writer * 1000 + i;
                        Cid cid;
                        try (InputStream in = TestBytes.of(seed, size(seed))) {
                            cid = node.add(in).cid();
                        }
                        node.filesCp("/ipfs/" + cid, "/c/w" + writer + "/f" + i);
                        node.filesWrite("/c/w" + writer + "/meta" + i, cid.toString().getBytes(StandardCharsets.US_ASCII));
                        if (i % 10 == 9) {
                            node.filesMv("/c/w" + writer + "/f" + (i - 1), "/c/w" + writer + "/moved" + (i - 1));
                        }
                    }
                    return null;
                }));
            }
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                readers.add(pool.submit(() -> {
                    while (writing.get()) {
                        if (node.filesStat("/c").isEmpty()) {
                            continue;
                        }
                        for (IpfsNode.FileEntry writerDir : node.filesLs("/c")) {
                            int writer = Integer.parseInt(writerDir.name().substring(1));
                            for (IpfsNode.FileEntry file : node.filesLs("/c/" + writerDir.name())) {
                                if (file.name().startsWith("meta")) {
                                    continue;
                                }
                                int i = Integer.parseInt(file.name().replaceAll("[^0-9]", ""));
                                int seed = writer * 1000 + i;
                                // read through the CID from the listing: that snapshot stays readable
                                try (InputStream in = node.cat(file.cid().toString(), 0, -1);
                                        InputStream want = TestBytes.of(seed, size(seed))) {
                                    assertArrayEquals(want.readAllBytes(), in.readAllBytes(), file.name());
                                }
                                filesRead.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get(5, TimeUnit.MINUTES);
            }
            writing.set(false);
            for (Future<?> reader : readers) {
                reader.get(1, TimeUnit.MINUTES);
            }

            assertTrue(filesRead.get() > 0, "readers read nothing while writers wrote");
            for (int w = 0; w < WRITERS; w++) {
                List<IpfsNode.FileEntry> entries = node.filesLs("/c/w" + w);
                assertEquals(2 * FILES_PER_WRITER, entries.size(), "entries of writer " + w + ": " + entries);
                for (int i = 0; i < FILES_PER_WRITER; i++) {
                    String name = i % 10 == 8 ? "moved" + i : "f" + i;
                    Cid cid = node.filesStat("/c/w" + w + "/" + name).orElseThrow().cid();
                    try (InputStream meta = node.filesRead("/c/w" + w + "/meta" + i, 0, -1)) {
                        assertEquals(cid.toString(), new String(meta.readAllBytes(), StandardCharsets.US_ASCII));
                    }
                }
            }
            FsckReport report = node.fsck();
            assertTrue(report.clean(), report.toString());
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    private static long size(int seed) {
        return seed % 7 == 0 ? 300_000 + seed : 50 + seed % 500;
    }
}
