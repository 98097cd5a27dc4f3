package io.mirrorball.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.MediaTypes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads an image that nerdctl pushed to IPFS ({@code nerdctl push ipfs://}, the layout of containerd's
 * stargz-snapshotter {@code ipfs} package; docs/formats.md): the image's CID holds a JSON OCI descriptor
 * of its manifest or index, and every descriptor, the top one and those inside the manifests, names its
 * blob's CID as {@code urls: ["ipfs://<cid>"]}. The CID authenticates the top descriptor only: every other
 * byte is hashed against the digest (and size) its descriptor gives before it is kept. Only a plain
 * {@code ipfs://<cid>} is followed, never another scheme, a path or an IPNS name.
 */
final class NerdctlImageReader {
    static final String FORMAT = "nerdctl";
    /** A descriptor is a few hundred bytes. */
    static final int DESCRIPTOR_CAP = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ForeignManifests manifests;

    NerdctlImageReader(ForeignManifests manifests) {
        this.manifests = manifests;
    }

    /** Reads the image whose top descriptor is {@code descriptor} (the bytes at the image's CID). */
    ForeignImage read(byte[] descriptor) throws IOException {
        Descriptor top = descriptor(descriptor);
        if (!MediaTypes.isManifest(top.mediaType()) && !MediaTypes.isIndex(top.mediaType())) {
            throw manifests.invalid("its descriptor is of a " + top.mediaType() + ", not of a manifest or index");
        }
        Manifest manifest = fetchManifest(top, "its manifest");
        Map<Digest, ForeignImage.Listed> blobs = ForeignManifests.newBlobMap();
        ForeignManifests.Locator locate = this::cidOf;
        if (manifest.isIndex()) {
            if (manifest.manifests().size() > ForeignManifests.MAX_CHILDREN) {
                throw manifests.invalid("an index of more than " + ForeignManifests.MAX_CHILDREN + " manifests");
            }
            List<Digest> seen = new ArrayList<>();
            for (Descriptor child : manifest.manifests()) {
                if (seen.contains(child.digest())) {
                    continue;
                }
                seen.add(child.digest());
                Manifest childManifest = fetchManifest(child, "manifest " + child.digest());
                if (childManifest.isIndex()) {
                    throw manifests.invalid("an index inside an index");
                }
                manifests.listBlobs(childManifest, locate, blobs);
            }
        } else {
            manifests.listBlobs(manifest, locate, blobs);
        }
        return new ForeignImage(FORMAT, Map.of("latest", top.digest()), List.of(top.digest()), blobs);
    }

    private Manifest fetchManifest(Descriptor descriptor, String what) throws IOException {
        if (descriptor.size() > Manifest.MAX_BYTES) {
            throw manifests.invalid(what + " is said to be " + descriptor.size() + " bytes, over the limit of "
                    + Manifest.MAX_BYTES);
        }
        byte[] content = manifests.readCid(cidOf(descriptor), (int) descriptor.size(), what);
        Manifest manifest = manifests.store(content, descriptor.digest(), descriptor.size(), what);
        if (!manifest.mediaType().equals(descriptor.mediaType())) {
            throw manifests.invalid(what + " is a " + manifest.mediaType() + ", but its descriptor says "
                    + descriptor.mediaType());
        }
        return manifest;
    }

    /** The one {@code ipfs://<cid>} of a descriptor's urls. */
    private Cid cidOf(Descriptor descriptor) {
        for (String url : descriptor.urls()) {
            if (url.startsWith("ipfs://")) {
                String text = url.substring("ipfs://".length());
                try {
                    return Cid.parse(text); // a CID only: "/", "?", "#" or ".." make it no CID
                } catch (IllegalArgumentException e) {
                    throw manifests.invalid("the url " + shorten(url) + " of " + descriptor.digest()
                            + " names no CID");
                }
            }
        }
        throw manifests.invalid(descriptor.digest() + " has no ipfs:// url");
    }

    private Descriptor descriptor(byte[] content) {
        JsonNode node;
        try {
            node = JSON.readTree(content);
        } catch (IOException e) {
            throw notAnImage();
        }
        if (node == null || !node.isObject() || !node.path("digest").isTextual() || !node.path("size").canConvertToLong()
                || !node.path("mediaType").isTextual() || !node.path("urls").isArray()) {
            throw notAnImage();
        }
        String digest = node.path("digest").asText();
        if (!Digest.isDigest(digest)) {
            throw manifests.invalid("its descriptor has no valid digest");
        }
        List<String> urls = new ArrayList<>();
        node.path("urls").forEach(u -> urls.add(u.asText("")));
        long size = node.path("size").asLong();
        if (size < 0) {
            throw manifests.invalid("its descriptor has a negative size");
        }
        return new Descriptor(node.path("mediaType").asText(), Digest.parse(digest), size, null, Map.of(), urls);
    }

    private io.mirrorball.oci.OciException notAnImage() {
        return new io.mirrorball.oci.OciException(io.mirrorball.oci.OciErrorCode.NAME_UNKNOWN, manifests.image()
                + " is not an image: no disco.json, no ipdr manifests/ directory and no OCI descriptor");
    }

    private static String shorten(String text) {
        return text.length() <= 80 ? "'" + text + "'" : "'" + text.substring(0, 80) + "...'";
    }
}
