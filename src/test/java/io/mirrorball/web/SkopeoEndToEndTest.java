package io.mirrorball.web;

/** The skopeo end-to-end cases on a Kubo daemon reached through its RPC API. */
final class SkopeoEndToEndTest extends SkopeoEndToEndCases {
    SkopeoEndToEndTest() {
        super("kubo");
    }
}
