package io.mirrorball.ipfs;

/**
 * The import parameters mirrorball always uses, so the same bytes get the same CID on every node.
 */
public record ImportParams(int cidVersion, boolean rawLeaves, int chunkSize, String hash, int maxLinks) {
    public static final ImportParams FIXED = new ImportParams(1, true, 262_144, "sha2-256", 174);

    /** The query string of Kubo's {@code add} for these parameters. */
    public String kuboQuery() {
        return "cid-version=" + cidVersion + "&raw-leaves=" + rawLeaves + "&chunker=size-" + chunkSize
                + "&hash=" + hash + "&trickle=false";
    }
}
