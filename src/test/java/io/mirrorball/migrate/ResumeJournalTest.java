package io.mirrorball.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ResumeJournalTest {
    private static final Digest A = Digest.ofBytes("a".getBytes(StandardCharsets.UTF_8));
    private static final Digest B = Digest.ofBytes("b".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    @Test
    void record_thenReopen_findsTheEntry() throws Exception {
        ResumeJournal.open(dir).record(new ResumeJournal.Entry(A, "org/app", "http://h/v2/org/app/blobs/uploads/u1"));

        ResumeJournal reopened = ResumeJournal.open(dir);

        assertEquals(Optional.of(new ResumeJournal.Entry(A, "org/app", "http://h/v2/org/app/blobs/uploads/u1")),
                reopened.find(A));
        assertEquals(Optional.empty(), reopened.find(B));
        assertEquals(List.of(new ResumeJournal.Entry(A, "org/app", "http://h/v2/org/app/blobs/uploads/u1")),
                reopened.entries());
    }

    @Test
    void remove_forgetsTheEntry() throws Exception {
        ResumeJournal journal = ResumeJournal.open(dir);
        journal.record(new ResumeJournal.Entry(A, "app", "u1"));

        journal.remove(A);

        assertEquals(Optional.empty(), journal.find(A));
        assertTrue(journal.entries().isEmpty());
    }

    @Test
    void record_again_replacesTheToken() throws Exception {
        ResumeJournal journal = ResumeJournal.open(dir);
        journal.record(new ResumeJournal.Entry(A, "app", "u1"));
        journal.record(new ResumeJournal.Entry(A, "app", "u2"));

        assertEquals("u2", journal.find(A).orElseThrow().token());
    }

    /** A kill during a write leaves a .tmp beside the entries: it is dropped, and never read as an entry. */
    @Test
    void open_leftoverTemporaryAndForeignFiles_areIgnored() throws Exception {
        Files.writeString(dir.resolve("sha256-" + A.hex() + ".tmp"), "app\nhalf", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("sha256-" + B.hex()), "", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("notes.txt"), "x", StandardCharsets.UTF_8);

        ResumeJournal journal = ResumeJournal.open(dir);

        assertFalse(Files.exists(dir.resolve("sha256-" + A.hex() + ".tmp")));
        assertEquals(Optional.empty(), journal.find(A));
        assertEquals(Optional.empty(), journal.find(B));
        assertTrue(journal.entries().isEmpty());
    }
}
