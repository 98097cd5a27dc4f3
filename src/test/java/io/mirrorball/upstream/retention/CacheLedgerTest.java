package io.mirrorball.upstream.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CacheLedgerTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Digest A = Digest.ofBytes("a".getBytes(StandardCharsets.UTF_8));
    private static final Digest B = Digest.ofBytes("b".getBytes(StandardCharsets.UTF_8));
    private static final RepositoryName APP = RepositoryName.parse("team/app");

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.at(T0);

    @Test
    void readOnly_afterCrashWithoutFlush_keepsPutsAndOlderLastUse() throws Exception {
        CacheLedger ledger = CacheLedger.open(dir, clock);
        ledger.stored("registry.example", APP, A, 100);
        ledger.flush();
        clock.advance(Duration.ofMinutes(5));
        ledger.served(A); // in memory only until the next flush
        ledger.stored("registry.example", APP, B, 200); // journaled at once

        List<CachedItem> seen = CacheLedger.readOnly(dir); // what a process killed now leaves

        assertEquals(List.of(new CachedItem(A, 100, T0, "registry.example", "team/app"),
                new CachedItem(B, 200, T0.plus(Duration.ofMinutes(5)), "registry.example", "team/app")), seen);
        ledger.close();
        assertEquals(T0.plus(Duration.ofMinutes(5)), CacheLedger.readOnly(dir).get(0).lastUse(),
                "close writes the last uses");
    }

    @Test
    void readOnly_tornJournalLine_isSkipped() throws Exception {
        try (CacheLedger ledger = CacheLedger.open(dir, clock)) {
            ledger.stored("u", APP, A, 1);
            ledger.removed(A);
            ledger.stored("u", APP, B, 2);
            Files.writeString(dir.resolve("journal"), "+\t" + A + "\t12", StandardOpenOption.APPEND);

            assertEquals(List.of(B), CacheLedger.readOnly(dir).stream().map(CachedItem::digest).toList());
        }
    }

    @Test
    void open_heldByAnother_isRefused() throws Exception {
        try (CacheLedger ledger = CacheLedger.open(dir, clock)) {
            assertThrows(LedgerInUseException.class, () -> CacheLedger.open(dir, clock));
        }
        try (CacheLedger again = CacheLedger.open(dir, clock)) {
            assertTrue(again.items().isEmpty());
        }
    }

    @Test
    void served_unknownDigest_isIgnored() throws Exception {
        try (CacheLedger ledger = CacheLedger.open(dir, clock)) {
            ledger.served(A); // pushed content, or cached before the ledger existed: never a candidate
            assertTrue(ledger.items().isEmpty());
        }
    }
}
