package io.mirrorball.ipfs.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
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

    /**
     * kill -9 at random moments while a child adds files of 64 MiB (into blob files) and copies them
     * into MFS: after every restart, fsck is clean, every acknowledged file reads back identical, and
     * open has removed every temp file and every data file whose index was never written.
     */
    @Test
    void killDashNine_duringLargeAddsAndCopies_everyAckedFileSurvivesAndNothingIsLeftOver() throws Exception {
        Map<String, Integer> killedWhile = new HashMap<>();
        Map<Long, String> sha256BySeed = new HashMap<>();
        Random random = new Random(64);
        int leftovers = 0;
        int ackedTotal = 0;
        for (int storeNumber = 0; storeNumber < 3; storeNumber++) { // a fresh store now and then bounds the disk used
            Path store = dir.resolve("node" + storeNumber);
            Map<Integer, Cid> acked = new ConcurrentHashMap<>();
            int next = 0;
            for (int round = 0; round < 4; round++) {
                String where = "store " + storeNumber + " round " + round;
                AtomicInteger started = new AtomicInteger(next - 1);
                killedWhile.merge(runLargeAndKill(store, next, acked, started, 200 + random.nextInt(1200)), 1, Integer::sum);

                leftovers += unfinished(store).size();
                try (EmbeddedNode node = EmbeddedNode.open(store)) {
                    assertEquals(List.of(), unfinished(store), where + ": left over after open");
                    FsckReport report = node.fsck();
                    assertTrue(report.clean(), where + ": " + report);
                    for (Map.Entry<Integer, Cid> ack : acked.entrySet()) {
                        int i = ack.getKey();
                        assertEquals(ack.getValue(), node.filesStat("/big/" + i).orElseThrow().cid(), where + ", file " + i);
                        String want = sha256BySeed.computeIfAbsent(LargeAddCrashWriter.seed(i),
                                seed -> sha256(TestBytes.of(seed, LargeAddCrashWriter.size(i))));
                        assertEquals(want, sha256(node.filesRead("/big/" + i, 0, -1)), where + ", content of file " + i);
                    }
                }
                next = started.get() + 1;
            }
            ackedTotal += acked.size();
        }
        System.out.println("large-add crash test: " + ackedTotal + " files acknowledged, kills " + killedWhile
                + ", " + leftovers + " unfinished imports removed at open");
        assertTrue(ackedTotal > 0, "no file was acknowledged in 12 rounds");
        assertTrue(killedWhile.getOrDefault("add", 0) > 0, "no kill landed during an add: " + killedWhile);
    }

    /**
     * Starts the large-add writer and kills it with SIGKILL {@code killMillis} after it is ready.
     * Returns what it was doing then: "add" or "cp" of a file, or "idle" between files.
     */
    private static String runLargeAndKill(Path store, int first, Map<Integer, Cid> acked, AtomicInteger started,
            int killMillis) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                LargeAddCrashWriter.class.getName(), store.toString(), String.valueOf(first))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        CountDownLatch ready = new CountDownLatch(1);
        AtomicReference<String> phase = new AtomicReference<>("idle");
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    String[] parts = line.split(" ");
                    switch (parts[0]) {
                        case "ready" -> ready.countDown();
                        case "adding" -> {
                            started.set(Integer.parseInt(parts[1]));
                            phase.set("add");
                        }
                        case "added" -> phase.set("cp");
                        case "ack" -> {
                            acked.put(Integer.parseInt(parts[1]), Cid.parse(parts[2]));
                            phase.set("idle");
                        }
                        default -> { }
                    }
                }
            } catch (IOException e) {
                // the pipe breaks when the child is killed
            }
        }, "crash-test-large-ack-reader");
        reader.start();
        try {
            assertTrue(ready.await(60, TimeUnit.SECONDS), "writer did not open the node");
            Thread.sleep(killMillis);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "writer did not die");
            reader.join(10_000);
        }
        assertFalse(reader.isAlive());
        return phase.get();
    }

    /** Temp files of both tiers, and data files without an index (or the reverse). */
    private static List<String> unfinished(Path store) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path tmp : List.of(store.resolve("blobs/.tmp"), store.resolve("blocks/.tmp"))) {
            if (Files.isDirectory(tmp)) {
                try (Stream<Path> files = Files.list(tmp)) {
                    files.forEach(file -> found.add(store.relativize(file).toString()));
                }
            }
        }
        if (Files.isDirectory(store.resolve("blobs"))) {
            try (Stream<Path> files = Files.list(store.resolve("blobs"))) {
                for (Path file : files.toList()) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(".data") && !Files.exists(file.resolveSibling(name.replace(".data", ".idx")))
                            || name.endsWith(".idx") && !Files.exists(file.resolveSibling(name.replace(".idx", ".data")))) {
                        found.add(store.relativize(file).toString());
                    }
                }
            }
        }
        return found;
    }

    /** The stream's SHA-256 (hex), read to its end. */
    private static String sha256(InputStream stream) {
        try (InputStream in = stream) {
            java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return java.util.HexFormat.of().formatHex(digest.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new AssertionError("reading back failed: " + e, e);
        }
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
