package io.mirrorball.store;

import io.mirrorball.ipfs.CarWriter;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Exports published images from the store as one CAR v1: the DAG under each image's CID (the
 * directory {@link ImagePublisher} builds, which holds every blob), each block once. An image is
 * named by its CID (its root block must be here) or by a reference {@code NAME[:TAG]} or
 * {@code NAME@DIGEST}, resolved through the manifest store to the CID it was published as. The CAR
 * is written to {@code FILE.tmp} beside the target and renamed to it only when complete, so the
 * target is never a partial CAR.
 */
public final class ImageExporter {
    private static final int BUFFER = 256 * 1024;

    private final IpfsNode node;
    private final ManifestStore manifests;
    private final ImagePublisher publisher;

    private ImageExporter(IpfsNode node, ManifestStore manifests, ImagePublisher publisher) {
        this.node = node;
        this.manifests = manifests;
        this.publisher = publisher;
    }

    public static ImageExporter of(RegistryStore store) {
        return new ImageExporter(store.node(), store.manifests(), store.publisher());
    }

    /**
     * The CID of the image an argument names: a CID whose root block is here, or a reference to a
     * manifest that was published. Unknown names, manifests and CIDs are {@link OciException}s
     * (NAME_UNKNOWN, MANIFEST_UNKNOWN) whose message says which; a manifest that was never published
     * to IPFS has no CID (MANIFEST_UNKNOWN, "has no IPFS CID").
     */
    public Cid resolve(String image) throws IOException {
        if (image.indexOf('/') < 0 && image.indexOf(':') < 0 && image.indexOf('@') < 0 && Cid.isCid(image)) {
            Cid cid = Cid.parse(image);
            if (node.blockStat(cid).isEmpty()) {
                throw new OciException(OciErrorCode.NAME_UNKNOWN, "no image " + image + " in the store");
            }
            return cid;
        }
        String name;
        Reference reference;
        int at = image.indexOf('@');
        if (at >= 0) {
            name = image.substring(0, at);
            reference = Reference.parse(image.substring(at + 1));
        } else {
            int colon = image.lastIndexOf(':');
            boolean tagged = colon > image.lastIndexOf('/');
            name = tagged ? image.substring(0, colon) : image;
            reference = Reference.ofTag(tagged ? image.substring(colon + 1) : "latest");
        }
        if (!RepositoryName.isValid(name)) {
            throw new OciException(OciErrorCode.NAME_INVALID, "invalid repository name " + name);
        }
        StoredManifest manifest = manifests.get(RepositoryName.parse(name), reference);
        return publisher.publishedCid(manifest.digest()).orElseThrow(() -> new OciException(
                OciErrorCode.MANIFEST_UNKNOWN, name + (reference.isDigest() ? "@" : ":") + reference
                        + " was never published to IPFS, so it has no CID to export"));
    }

    /**
     * Writes the images under {@code roots} (duplicates dropped, order kept) to {@code target} as one
     * CAR and returns the roots written. A failure removes the temporary file and leaves the target
     * as it was.
     */
    public List<Cid> export(List<Cid> roots, Path target) throws IOException {
        return write(roots, target, node::dagExport);
    }

    /** Where the CAR of one root comes from: a node's {@code dagExport}, or a gateway's {@code ?format=car}. */
    @FunctionalInterface
    public interface CarSource {
        /** A CAR v1 of the DAG under {@code root}; the caller closes it. */
        InputStream open(Cid root) throws IOException;
    }

    /**
     * Writes one CAR of the DAGs under {@code roots} (duplicates dropped, order kept), each copied
     * from {@code source} and re-hashed by {@link CarWriter}, to {@code FILE.tmp} beside
     * {@code target}, renamed to {@code target} when complete; returns the roots written. A failure
     * removes the temporary file and leaves the target as it was.
     */
    public static List<Cid> write(List<Cid> roots, Path target, CarSource source) throws IOException {
        Set<Cid> distinct = new LinkedHashSet<>(roots);
        if (distinct.isEmpty()) {
            throw new IllegalArgumentException("nothing to export");
        }
        List<Cid> written = new ArrayList<>(distinct);
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                    OutputStream out = new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel),
                            BUFFER)) {
                CarWriter car = CarWriter.start(out, written);
                for (Cid root : written) {
                    try (InputStream in = source.open(root)) {
                        car.copyCar(in);
                    }
                }
                car.finish();
                out.flush();
                channel.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return written;
    }
}
