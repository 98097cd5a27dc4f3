package io.mirrorball.cli;

/**
 * An image as the gateway commands take it: {@code name[:tag]} or {@code name@digest}; no tag means
 * {@code latest}. Parsed the same way by {@code cid} and {@code export --from}.
 */
record ImageRef(String name, String reference, boolean byDigest) {
    static ImageRef parse(String image) {
        int at = image.indexOf('@');
        if (at > 0) {
            return new ImageRef(image.substring(0, at), image.substring(at + 1), true);
        }
        int colon = image.lastIndexOf(':');
        boolean tagged = colon > image.lastIndexOf('/');
        return new ImageRef(tagged ? image.substring(0, colon) : image, tagged ? image.substring(colon + 1) : "latest",
                false);
    }

    /** The gateway path of its manifest, {@code /v2/<name>/manifests/<reference>}. */
    String manifestPath() {
        return "/v2/" + name + "/manifests/" + reference;
    }

    @Override
    public String toString() {
        return name + (byDigest ? "@" : ":") + reference;
    }
}
