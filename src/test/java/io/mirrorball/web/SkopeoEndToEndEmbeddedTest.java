package io.mirrorball.web;

/** The skopeo end-to-end cases on the embedded IPFS node (the default {@code storage.ipfs.node}). */
final class SkopeoEndToEndEmbeddedTest extends SkopeoEndToEndCases {
    SkopeoEndToEndEmbeddedTest() {
        super("embedded");
    }
}
