package io.mirrorball.migrate.dest;

import java.util.Objects;

/**
 * What a destination needs for one blob: nothing ({@link Linked}: the repository has it now, because
 * it was there or was mounted from another repository), or its bytes from {@code offset} into an
 * upload whose {@code token} (a session URL or id) can be written to the resume journal.
 */
public sealed interface BlobPlan {
    record Linked() implements BlobPlan {
    }

    record Upload(String token, long offset) implements BlobPlan {
        public Upload {
            Objects.requireNonNull(token, "token");
            if (offset < 0) {
                throw new IllegalArgumentException("offset " + offset);
            }
        }
    }
}
