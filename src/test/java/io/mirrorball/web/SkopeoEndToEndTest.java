package io.mirrorball.web;

/** The skopeo end-to-end cases on a real IPFS node (the kit) reached through the Kubo RPC API. */
final class SkopeoEndToEndTest extends SkopeoEndToEndCases {
    SkopeoEndToEndTest() {
        super("kit");
    }
}
