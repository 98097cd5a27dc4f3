package io.mirrorball.migrate.progress;

import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.ImageResult;
import io.mirrorball.oci.Digest;
import java.time.Duration;

/**
 * The text of the events every renderer prints the same way. Text that came from a source or a
 * destination (references, messages) is printed with its control characters replaced, so that a
 * registry's error message cannot move the cursor or change the terminal.
 */
final class Lines {
    private Lines() {
    }

    static String failed(ImageFailure failure) {
        return "failed " + clean(failure.source()) + " " + failure.kind() + ": " + clean(failure.message());
    }

    static String warning(String message) {
        return "warning: " + clean(message);
    }

    static String waiting(String host, Duration wait, String reason) {
        return "waiting " + Units.duration(ceilSeconds(wait)) + " for " + clean(host) + " (" + clean(reason) + ")";
    }

    static String published(ImageResult result) {
        return "published " + clean(result.destination()) + " " + result.digest() + " " + result.cid();
    }

    static String blobFailed(Digest digest, String image, String reason) {
        return "failed blob " + Units.shortDigest(digest) + (image == null ? "" : " for " + clean(image))
                + ": " + clean(reason);
    }

    /** {@code text} with every control character (C0, DEL, C1) replaced by {@code ?}; {@code null} as {@code -}. */
    static String clean(String text) {
        if (text == null) {
            return "-";
        }
        StringBuilder cleaned = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && cleaned == null) {
                cleaned = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (cleaned != null) {
                cleaned.append(control ? '?' : c);
            }
        }
        return cleaned == null ? text : cleaned.toString();
    }

    private static long ceilSeconds(Duration wait) {
        long seconds = wait.getSeconds();
        return wait.getNano() > 0 ? seconds + 1 : seconds;
    }
}
