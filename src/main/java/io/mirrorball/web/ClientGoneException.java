package io.mirrorball.web;

import java.io.IOException;

/** The client closed its connection while we were reading from it or writing to it. */
final class ClientGoneException extends IOException {
    private static final long serialVersionUID = 1L;

    ClientGoneException(IOException cause) {
        super(cause.getMessage(), cause);
    }
}
