package io.mirrorball.upstream.retention;

import java.io.IOException;

/** The cache ledger is held by another process (a running gateway). */
public final class LedgerInUseException extends IOException {
    LedgerInUseException(String message) {
        super(message);
    }
}
