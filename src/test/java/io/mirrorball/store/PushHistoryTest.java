package io.mirrorball.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class PushHistoryTest {
    private static final RepositoryName APP = RepositoryName.parse("app");
    private static final RepositoryName OTHER = RepositoryName.parse("org/other");
    private static final Cid CID = Cid.parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");

    @TempDir
    Path tmp;
    private final MutableClock clock = MutableClock.at(Instant.parse("2026-12-01T10:00:00Z"));

    private static Digest digest(String text) {
        return Digest.ofBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void reopen_keepsLastPushPerTagRecentAndOrigins() throws Exception {
        PushHistory history = PushHistory.open(tmp, clock);
        history.pushed(APP, "1.0", digest("a"), CID);
        clock.advance(Duration.ofMinutes(5));
        history.pushed(APP, "1.0", digest("b"), null);
        history.pushed(OTHER, null, digest("c"), CID);

        PushHistory reopened = PushHistory.open(tmp, clock);

        assertEquals(digest("b"), reopened.lastPush(APP, "1.0").orElseThrow().digest());
        assertEquals(Instant.parse("2026-12-01T10:05:00Z"), reopened.lastPush(APP, "1.0").orElseThrow().at());
        assertEquals(3, reopened.recent().size());
        assertEquals(OTHER, reopened.recent().get(0).repository(), "newest first");
        assertEquals(Set.of(APP, OTHER), reopened.repositoriesOf(CID));
        assertTrue(reopened.lastPush(APP, "2.0").isEmpty());
    }

    @Test
    void open_tornOrForeignLines_skipped() throws Exception {
        PushHistory history = PushHistory.open(tmp, clock);
        history.pushed(APP, "1.0", digest("a"), CID);
        Files.writeString(tmp.resolve("pushes.jsonl"), "{\"at\":\"2026-12-01T10:00:00Z\",\"repository\":\"x\",\"tag\":\"../../e"
                + "\",\"digest\":\"sha256:00\"}\nnot json\n{\"at\":\"2026-12-01T11:0", StandardOpenOption.APPEND);

        PushHistory reopened = PushHistory.open(tmp, clock);

        assertEquals(1, reopened.recent().size());
        reopened.pushed(APP, "1.1", digest("b"), null); // appends after the torn line, on a line of its own
        assertEquals(2, PushHistory.open(tmp, clock).recent().size(), "the new line is read back");
    }

    @Test
    void open_pastCompactionSize_rewritesKeepingWhatIsShown() throws Exception {
        PushHistory history = PushHistory.open(tmp, clock);
        int pushes = 0;
        do {
            for (int i = 0; i < 1000; i++) {
                history.pushed(APP, "t" + (pushes % 20), digest("d" + pushes), null);
                pushes++;
            }
        } while (Files.size(tmp.resolve("pushes.jsonl")) <= PushHistory.COMPACT_AT);
        history.pushed(OTHER, "keep", digest("last"), CID);

        PushHistory compacted = PushHistory.open(tmp, clock);

        assertTrue(Files.size(tmp.resolve("pushes.jsonl")) < 64 * 1024, "compacted");
        assertEquals(digest("last"), compacted.lastPush(OTHER, "keep").orElseThrow().digest());
        assertEquals(digest("d" + (pushes - 1)), compacted.lastPush(APP, "t" + ((pushes - 1) % 20)).orElseThrow().digest());
        assertEquals(PushHistory.RECENT, compacted.recent().size());
        assertEquals(Set.of(OTHER), compacted.repositoriesOf(CID));
    }
}
