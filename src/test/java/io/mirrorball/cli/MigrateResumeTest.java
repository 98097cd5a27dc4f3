package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.MigrateProcess;
import io.mirrorball.testing.SourceRegistryFixture;
import io.mirrorball.web.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code migrate} killed (as kill -9 would) at several points, then run again: the end result is
 * what one uninterrupted run gives, the resume journal is empty, and the source served no blob
 * twice.
 */
final class MigrateResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BIG = 48L << 20;

    @TempDir
    static Path shared;

    static SourceRegistryFixture source;
    /** The result of one uninterrupted run, into its own gateway. */
    static JsonNode uninterrupted;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fill() throws Exception {
        source = SourceRegistryFixture.builder(shared.resolve("source")).bigLayer(BIG).start();
        try (TestGateway gateway = TestGateway.start(shared.resolve("reference"))) {
            MigrateCommandTest.Run run = MigrateCommandTest.run(Map.of(), args(gateway, shared.resolve("state"))
                    .toArray(String[]::new));
            assertEquals(0, run.code(), run.err());
            uninterrupted = run.json();
        }
    }

    @AfterAll
    static void stop() {
        source.close();
    }

    private static List<String> args(TestGateway gateway, Path state) {
        return new ArrayList<>(List.of("migrate", "--to", gateway.uri().toString(), "--src-plain-http",
                "--progress", "plain", "--output", "json", "--state-dir", state.toString(),
                "docker://" + source.hostPort()));
    }

    /** Halts after some blobs, before some manifest, after some publish; the re-run completes it exactly. */
    @ParameterizedTest
    @ValueSource(strings = {"after-blob:3", "before-manifest:4", "after-publish:2"})
    void migrate_haltedThenRunAgain_endsAsOneRunWould(String haltAt) throws Exception {
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Path state = tmp.resolve("state");
            Map<Digest, Long> before = source.accessLog().blobBytesServed();
            List<String> halted = args(gateway, state);
            halted.addAll(List.of("--jobs", "1", "--test-halt-at", haltAt));
            try (MigrateProcess process = MigrateProcess.start(tmp.resolve("run1"), halted, Map.of())) {
                assertEquals(MigrateProcess.SIGKILL_EXIT, process.awaitExit(Duration.ofMinutes(3)), process.stderr());
            }

            MigrateCommandTest.Run rerun = MigrateCommandTest.run(Map.of(), args(gateway, state).toArray(String[]::new));

            assertEquals(0, rerun.code(), rerun.err());
            assertEquals(uninterrupted, rerun.json());
            assertJournalEmpty(state);
            // with one job, a halt falls between blobs: each blob crossed exactly once over both runs
            Map<Digest, Long> served = MigrateCommandTest.minus(source.accessLog().blobBytesServed(), before);
            for (Map.Entry<Digest, Long> blob : served.entrySet()) {
                assertEquals(source.blobSizes().get(blob.getKey()), blob.getValue(), "bytes served of " + blob.getKey());
            }
        }
    }

    /** Killed mid-blob: the re-run continues the upload and asks the source only for the rest. */
    @Test
    void migrate_killedMidBlob_continuesWhereTheUploadStopped() throws Exception {
        Digest big = source.bigLayerDigest().orElseThrow();
        try (TestGateway gateway = TestGateway.start(tmp.resolve("gw"))) {
            Path state = tmp.resolve("state");
            long before = source.accessLog().blobBytesServed().getOrDefault(big, 0L);
            List<String> args = args(gateway, state);
            args.set(args.size() - 1, "docker://" + source.hostPort() + "/big:1");
            try (MigrateProcess process = MigrateProcess.start(tmp.resolve("run1"), args, Map.of())) {
                assertTrue(process.killWhen(gateway.uploads(), dir -> MigrateProcess.directoryBytes(dir) >= BIG / 2,
                        Duration.ofMinutes(3)), "killed mid-blob");
            }
            long kept = MigrateProcess.directoryBytes(gateway.uploads());
            long firstRun = source.accessLog().blobBytesServed().getOrDefault(big, 0L) - before;

            MigrateCommandTest.Run rerun = MigrateCommandTest.run(Map.of(), args.toArray(String[]::new));

            assertEquals(0, rerun.code(), rerun.err());
            assertEquals(source.digest("big:1").toString(), rerun.json().get(0).get("digest").asText());
            assertTrue(rerun.err().contains("resumed"), rerun.err());
            long secondRun = source.accessLog().blobBytesServed().getOrDefault(big, 0L) - before - firstRun;
            assertTrue(secondRun <= BIG - kept + (1 << 20), "the re-run fetched " + secondRun + " of " + BIG
                    + " bytes; the upload kept " + kept);
            assertJournalEmpty(state);
        }
    }

    private static void assertJournalEmpty(Path state) throws Exception {
        try (Stream<Path> files = Files.list(state)) {
            assertEquals(List.of(), files.toList());
        }
    }
}
