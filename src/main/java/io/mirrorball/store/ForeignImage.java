package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An image another program put on IPFS (ipdr, nerdctl), as read for a clone: its manifests are in the blob
 * store already (each hashed while read), and its other blobs are listed with the CIDs they are said to be
 * at, still to be checked against their digests.
 *
 * @param format "ipdr" or "nerdctl", for messages
 * @param tags   tag to top manifest; never empty
 * @param tops   the distinct top manifests, the one of tag {@code latest} (else the first) first
 * @param blobs  configs and layers of every manifest: digest to the CIDs given for it, and its size
 */
record ForeignImage(String format, Map<String, Digest> tags, List<Digest> tops, Map<Digest, Listed> blobs) {
    ForeignImage {
        tags = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tags));
        tops = List.copyOf(tops);
        blobs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(blobs));
    }

    /** A blob to check: where it is said to be, and its size per the manifest. */
    record Listed(Cid cid, long size) {
    }
}
