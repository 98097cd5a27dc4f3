package io.mirrorball.migrate.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.ImageResult;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

final class PlainProgressTest {
    private static final Digest BLOB = Digest.sha256("ab12cd34ef56" + "0".repeat(52));
    private static final long MIB = 1024 * 1024;

    private final StringWriter text = new StringWriter();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final PlainProgress progress = PlainProgress.to(new PrintWriter(text), nanos::get);

    private List<String> lines() {
        return text.toString().lines().toList();
    }

    @Test
    void blobDone_copied_printsSizeRateAndImage() {
        progress.blobStarted("app:1.2", BLOB, 41 * MIB, 0);
        progress.blobBytes(BLOB, 41 * MIB);
        nanos.addAndGet(2_000_000_000L);
        progress.blobDone(BLOB, 41 * MIB, false);

        assertEquals(List.of("copied sha256:ab12cd34ef56… (41.0 MiB, 20.5 MiB/s) for app:1.2"), lines());
    }

    @Test
    void blobDone_skipped_printsPresent() {
        progress.blobDone(BLOB, 5, true);

        assertEquals(List.of("skipped sha256:ab12cd34ef56… (present)"), lines());
    }

    @Test
    void blobStarted_atOffset_printsResumedAndRateCountsOnlyTheRest() {
        progress.blobStarted("app:1.2", BLOB, 16 * MIB, 8 * MIB);
        nanos.addAndGet(4_000_000_000L);
        progress.blobDone(BLOB, 16 * MIB, false);

        assertEquals(List.of(
                "resumed sha256:ab12cd34ef56… at 8.0 MiB of 16.0 MiB for app:1.2",
                "copied sha256:ab12cd34ef56… (16.0 MiB, 2.0 MiB/s) for app:1.2"), lines());
    }

    @Test
    void blobStarted_fromZero_printsNothing() {
        progress.blobStarted("app:1.2", BLOB, 10, 0);

        assertEquals(List.of(), lines());
    }

    @Test
    void waiting_rateLimited_printsSecondsHostAndReason() {
        progress.waiting("registry.example", Duration.ofMillis(36_200), "429");

        assertEquals(List.of("waiting 37 s for registry.example (429)"), lines());
    }

    @Test
    void imageDone_printsDestinationDigestAndCid() {
        Digest manifest = Digest.ofBytes("{}".getBytes());
        Cid cid = Cid.sha256(Cid.DAG_PB, manifest.bytes());
        progress.imageDone(new ImageResult("docker://x/app:1.2", "app:1.2", manifest, cid, 10, 1, 0));

        assertEquals(List.of("published app:1.2 " + manifest + " " + cid), lines());
    }

    @Test
    void imageFailed_printsSourceKindAndMessage() {
        progress.imageFailed(new ImageFailure("docker://x/y:1", FailureKind.NOT_FOUND, "manifest unknown"));

        assertEquals(List.of("failed docker://x/y:1 NOT_FOUND: manifest unknown"), lines());
    }

    @Test
    void imageFailed_controlCharactersInMessage_areReplaced() {
        progress.imageFailed(new ImageFailure("x/y:1", FailureKind.DESTINATION_REFUSED, "bad\u001b[2Jname\nnext"));

        assertEquals(List.of("failed x/y:1 DESTINATION_REFUSED: bad?[2Jname?next"), lines());
    }

    @Test
    void blobFailed_printsDigestImageAndReason() {
        progress.blobStarted("app:1.2", BLOB, 10, 0);
        progress.blobFailed(BLOB, "size mismatch");

        assertEquals(List.of("failed blob sha256:ab12cd34ef56… for app:1.2: size mismatch"), lines());
    }

    @Test
    void warning_printsMessage() {
        progress.warning("Docker Hub: 7 pulls left");

        assertEquals(List.of("warning: Docker Hub: 7 pulls left"), lines());
    }

    @Test
    void planningDone_printsTotals() {
        progress.imagePlanned("app:1.2", 3, 12 * MIB);
        progress.imagePlanned("app:1.3", 2, 4 * MIB);
        progress.planningDone();

        assertEquals(List.of(
                "planned app:1.2 (3 blobs, 12.0 MiB)",
                "planned app:1.3 (2 blobs, 4.0 MiB)",
                "planning done: 2 images, 5 blobs, 16.0 MiB"), lines());
    }

    @Test
    void blobDone_fromManyThreads_writesWholeLines() throws InterruptedException {
        List<Thread> workers = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int worker = t;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 250; i++) {
                    Digest digest = Digest.sha256(String.format("%064x", worker * 1000 + i));
                    progress.blobStarted("app:" + worker, digest, MIB, 0);
                    progress.blobDone(digest, MIB, false);
                }
            }, "test-worker-" + t);
            workers.add(thread);
            thread.start();
        }
        for (Thread thread : workers) {
            thread.join();
        }

        List<String> lines = lines();
        assertEquals(1000, lines.size());
        for (String line : lines) {
            assertTrue(line.matches("copied sha256:[0-9a-f]{12}… \\(1\\.0 MiB, [^)]+\\) for app:[0-3]"), line);
        }
    }
}
