package io.mirrorball.migrate.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

final class NoProgressTest {
    @Test
    void events_onlyFailuresAndWarnings_arePrinted() {
        StringWriter text = new StringWriter();
        Digest blob = Digest.sha256("1".repeat(64));
        try (NoProgress progress = NoProgress.to(new PrintWriter(text))) {
            progress.imagePlanned("app:1", 1, 10);
            progress.planningDone();
            progress.blobStarted("app:1", blob, 10, 0);
            progress.blobBytes(blob, 10);
            progress.blobDone(blob, 10, false);
            progress.blobFailed(blob, "reset");
            progress.waiting("host", Duration.ofSeconds(3), "503");
            progress.warning("session left over");
            progress.imageFailed(new ImageFailure("app:2", FailureKind.UNREACHABLE, "connection refused"));
        }

        assertEquals(List.of("warning: session left over", "failed app:2 UNREACHABLE: connection refused"),
                text.toString().lines().toList());
    }
}
