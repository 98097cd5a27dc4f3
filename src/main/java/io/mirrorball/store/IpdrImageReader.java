package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.Reference;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an image directory that ipdr wrote (docs/formats.md): {@code manifests/<tag>},
 * {@code manifests/sha256:<hex>} and {@code manifests/latest} hold manifest bytes, {@code blobs/sha256:<hex>}
 * the configs and layers. ipdr before v0.1.7 wrote {@code manifests/latest-v2} (taken as {@code latest}
 * too) and a config as {@code blobs/sha256:<hex>/<hex>.json}. Every manifest is hashed as it is read; an
 * entry named by a digest must hold bytes of that digest.
 */
final class IpdrImageReader {
    static final String FORMAT = "ipdr";
    private static final String OLD_LATEST = "latest-v2";

    private final IpfsNode node;
    private final ForeignManifests manifests;

    IpdrImageReader(IpfsNode node, ForeignManifests manifests) {
        this.node = node;
        this.manifests = manifests;
    }

    /** True when {@code dir} (a copy of the image) looks like ipdr's: a {@code manifests/} directory. */
    static boolean recognizes(IpfsNode node, String dir) throws IOException {
        return node.filesStat(dir + "/manifests").map(IpfsNode.FileStat::directory).orElse(false);
    }

    ForeignImage read(String dir) throws IOException {
        Map<String, Cid> blobFiles = new HashMap<>();
        Map<String, Boolean> blobIsDirectory = new HashMap<>();
        for (IpfsNode.FileEntry e : MfsListing.entries(node, dir + "/blobs")) {
            blobFiles.put(e.name(), e.cid());
            blobIsDirectory.put(e.name(), e.directory());
        }
        Map<String, Digest> tags = new LinkedHashMap<>();
        Map<Digest, Manifest> read = new LinkedHashMap<>();
        List<IpfsNode.FileEntry> entries = MfsListing.entries(node, dir + "/manifests");
        if (entries.isEmpty()) {
            throw manifests.invalid("its manifests/ directory is empty");
        }
        for (IpfsNode.FileEntry entry : entries) {
            if (entry.directory()) {
                continue;
            }
            String name = entry.name();
            Digest named = Digest.isDigest(name) ? Digest.parse(name) : null;
            if (named == null && !Reference.isTag(name)) {
                continue; // not a tag a client could ask for
            }
            byte[] content = manifests.readFile(dir + "/manifests/" + name, Manifest.MAX_BYTES, "manifests/" + name);
            Manifest manifest = manifests.store(content, named, -1, "manifests/" + name);
            Digest digest = named != null ? named : Digest.ofBytes(content);
            read.putIfAbsent(digest, manifest);
            if (named == null) {
                tags.put(name, digest);
            }
        }
        if (!tags.containsKey("latest") && tags.containsKey(OLD_LATEST)) {
            tags.put("latest", tags.get(OLD_LATEST));
        }
        if (tags.isEmpty()) {
            throw manifests.invalid("its manifests/ directory names no tag");
        }
        Map<Digest, ForeignImage.Listed> blobs = ForeignManifests.newBlobMap();
        ForeignManifests.Locator locate = blob -> locate(dir, blob, blobFiles, blobIsDirectory);
        List<Digest> tops = new ArrayList<>();
        Digest latest = tags.getOrDefault("latest", tags.values().iterator().next());
        tops.add(latest);
        for (Digest top : tags.values()) {
            if (!tops.contains(top)) {
                tops.add(top);
            }
        }
        for (Digest top : tops) {
            Manifest manifest = read.get(top);
            if (manifest.isIndex()) {
                if (manifest.manifests().size() > ForeignManifests.MAX_CHILDREN) {
                    throw manifests.invalid("an index of more than " + ForeignManifests.MAX_CHILDREN + " manifests");
                }
                for (Descriptor child : manifest.manifests()) {
                    Manifest childManifest = read.get(child.digest());
                    if (childManifest == null) {
                        Cid cid = locate.cid(child);
                        childManifest = manifests.store(manifests.readCid(cid, Manifest.MAX_BYTES, "manifest "
                                + child.digest()), child.digest(), child.size(), "manifest " + child.digest());
                        read.put(child.digest(), childManifest);
                    }
                    if (childManifest.isIndex()) {
                        throw manifests.invalid("an index inside an index");
                    }
                    manifests.listBlobs(childManifest, locate, blobs);
                }
            } else {
                manifests.listBlobs(manifest, locate, blobs);
            }
        }
        return new ForeignImage(FORMAT, tags, tops, blobs);
    }

    /** {@code blobs/sha256:<hex>}: a file, or (before v0.1.7, configs) a directory holding {@code <hex>.json}. */
    private Cid locate(String dir, Descriptor blob, Map<String, Cid> files, Map<String, Boolean> isDirectory)
            throws IOException {
        String name = blob.digest().toString();
        Cid cid = files.get(name);
        if (cid == null) {
            throw manifests.invalid("blobs/" + name + " is missing");
        }
        if (!isDirectory.get(name)) {
            return cid;
        }
        for (IpfsNode.FileEntry inside : MfsListing.entries(node, dir + "/blobs/" + name)) {
            if (!inside.directory() && inside.name().equals(blob.digest().hex() + ".json")) {
                return inside.cid();
            }
        }
        throw manifests.invalid("blobs/" + name + " is a directory without " + blob.digest().hex() + ".json");
    }
}
