package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a process writing to an embedded node loses nothing that was acknowledged, and corrupts nothing. */
final class EmbeddedNodeCrashTest {
    @TempDir
    Path dir;

    @Test
    void killDashNine_duringWriteLoop_everyAckedWriteSurvivesAndFsckIsClean() throws Exception {
        Path store = dir.resolve("node");
        Map<Integer, Cid> acked = new ConcurrentHashMap<>();
        Random random = new Random(42);
        int next = 0;
        for (int round = 0; round < 6; round++) {
            int roundAcks = runAndKill(store, next, acked, 2 + random.nextInt(6), random.nextInt(400));
            assertTrue(roundAcks > 0, "round " + round + ": the writer acknowledged nothing");

            try (EmbeddedNode node = EmbeddedNode.open(store)) {
                FsckReport report = node.fsck();
                assertTrue(report.clean(), "round " + round + ": " + report);
                for (Map.Entry<Integer, Cid> ack : acked.entrySet()) {
                    int i = ack.getKey();
                    assertEquals(ack.getValue(), node.filesStat("/w/" + i).orElseThrow().cid(), "write " + i);
                    try (InputStream in = node.filesRead("/w/" + i, 0, -1); InputStream want = TestBytes.of(i, CrashWriter.size(i))) {
                        assertArrayEquals(want.readAllBytes(), in.readAllBytes(), "content of write " + i);
                    }
                    try (InputStream in = node.filesRead("/links/" + i, 0, -1)) {
                        assertEquals(ack.getValue().toString(), new String(in.readAllBytes(), StandardCharsets.US_ASCII));
                    }
                    if (i % 5 == 0) {
                        assertTrue(node.pins().contains(ack.getValue()), "pin of write " + i);
                    }
                }
                // the writer may have committed one more write than it acknowledged: continue after it
                next = acked.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 2;
            }
        }
        assertTrue(acked.size() >= 12, "only " + acked.size() + " writes were acknowledged in 6 rounds");
    }

    /** Starts the writer, waits for {@code minAcks} acks plus {@code extraMillis}, then kills it with SIGKILL. */
    private static int runAndKill(Path store, int first, Map<Integer, Cid> acked, int minAcks, int extraMillis)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashWriter.class.getName(), store.toString(), String.valueOf(first))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        CountDownLatch enough = new CountDownLatch(minAcks);
        int[] count = {0};
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    String[] parts = line.split(" ");
                    if (parts.length == 3 && parts[0].equals("ack")) {
                        acked.put(Integer.parseInt(parts[1]), Cid.parse(parts[2]));
                        synchronized (count) {
                            count[0]++;
                        }
                        enough.countDown();
                    }
                }
            } catch (IOException e) {
                // the pipe breaks when the child is killed
            }
        }, "crash-test-ack-reader");
        reader.start();
        try {
            assertTrue(enough.await(120, TimeUnit.SECONDS), "writer did not acknowledge " + minAcks + " writes");
            Thread.sleep(extraMillis);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "writer did not die");
            reader.join(10_000);
        }
        synchronized (count) {
            return count[0];
        }
    }
}
