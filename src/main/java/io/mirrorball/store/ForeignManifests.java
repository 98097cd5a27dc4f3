package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the readers of other programs' images share: reading small documents with a cap, storing a manifest
 * under the digest of its bytes (so that nothing unverified enters the store), and listing each manifest's
 * blobs to check. Every refusal is MANIFEST_INVALID naming the image, never a server error.
 */
final class ForeignManifests {
    /** An index names at most this many manifests here; more is not an image anyone pushes. */
    static final int MAX_CHILDREN = 256;

    private final IpfsNode node;
    private final BlobStore blobs;
    private final String image;

    ForeignManifests(IpfsNode node, BlobStore blobs, String image) {
        this.node = node;
        this.blobs = blobs;
        this.image = image;
    }

    String image() {
        return image;
    }

    OciException invalid(String why) {
        return new OciException(OciErrorCode.MANIFEST_INVALID, image + " is not a valid image: " + why
                + "; nothing was cloned");
    }

    /** An MFS file, whole, refused over {@code cap} bytes. */
    byte[] readFile(String path, int cap, String what) throws IOException {
        try (InputStream in = node.filesRead(path, 0, cap + 1L)) {
            return capped(in, cap, what);
        }
    }

    /** The content of a CID, whole, refused over {@code cap} bytes (read through the node, block by block checked). */
    byte[] readCid(Cid cid, int cap, String what) throws IOException {
        try (InputStream in = node.cat(cid.toString(), 0, cap + 1L)) {
            return capped(in, cap, what);
        } catch (IpfsNotFoundException e) {
            throw invalid(what + " " + cid + " is not there");
        }
    }

    private byte[] capped(InputStream in, int cap, String what) throws IOException {
        byte[] buffer = new byte[cap + 1];
        int n = StreamCopy.readFully(in, buffer);
        if (n > cap) {
            throw invalid(what + " is larger than " + cap + " bytes");
        }
        return Arrays.copyOf(buffer, n);
    }

    /**
     * Parses manifest bytes and stores them under their own digest; when the image named a digest for them,
     * the bytes must have it (and the size, when one was named).
     */
    Manifest store(byte[] content, Digest named, long namedSize, String what) throws IOException {
        Digest actual = named == null ? Digest.ofBytes(content) : Digest.of(named.algorithm(), content);
        if (named != null && !actual.equals(named)) {
            throw invalid(what + " is said to be " + named + ", but its bytes are " + actual);
        }
        if (namedSize >= 0 && namedSize != content.length) {
            throw invalid(what + " is said to be " + namedSize + " bytes, but it has " + content.length);
        }
        Manifest manifest;
        try {
            manifest = Manifest.parse(content, null);
        } catch (OciException e) {
            throw invalid(what + ": " + e.getMessage());
        }
        blobs.putBytes(content, actual);
        return manifest;
    }

    /** The config and layers of an image manifest, to be found by {@code locate}; foreign layers are left out. */
    void listBlobs(Manifest manifest, Locator locate, Map<Digest, ForeignImage.Listed> into) throws IOException {
        for (Descriptor blob : manifest.blobs()) {
            if (blob.isForeign() && !blob.urls().stream().allMatch(u -> u.startsWith("ipfs://"))) {
                continue; // a non-distributable layer: a registry need not hold it
            }
            if (!into.containsKey(blob.digest())) {
                into.put(blob.digest(), new ForeignImage.Listed(locate.cid(blob), blob.size()));
            }
        }
    }

    /** Where an image keeps the bytes of a descriptor's blob. */
    interface Locator {
        Cid cid(Descriptor blob) throws IOException;
    }

    static Map<Digest, ForeignImage.Listed> newBlobMap() {
        return new LinkedHashMap<>();
    }
}
