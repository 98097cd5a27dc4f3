package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.CompletenessWalk;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.VerifyingCarReader;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a CAR of published images (what {@link ImageExporter} writes, or any CAR whose roots are
 * mirrorball images) into the store, so that each image can be pulled by its CID. Three steps:
 * <ol>
 *   <li>the CAR streams through a {@link VerifyingCarReader} into {@link IpfsNode#dagImport}, which
 *       pins nothing: a bad header, an oversized section or a block that does not match its CID stops
 *       the import and leaves only unpinned, unreferenced blocks;</li>
 *   <li>a {@link CompletenessWalk} of each root, offline, refuses an image whose DAG lacks a block
 *       (a CAR cut at a section boundary parses as a complete CAR);</li>
 *   <li>the root is pinned, then the image is cloned into the store by the path a pull by CID takes
 *       ({@link ImageCloner#ensurePresent}): every blob is checked against its digest and one
 *       {@code files/mv} makes {@code repositories/<cid>} visible. A failed clone unpins the root.</li>
 * </ol>
 * Each root succeeds or fails on its own.
 */
public final class CarImporter {
    private static final Logger LOG = LoggerFactory.getLogger(CarImporter.class);

    private final IpfsNode node;
    private final ImageCloner cloner;
    private final Duration cloneTimeout;

    private CarImporter(IpfsNode node, ImageCloner cloner, Duration cloneTimeout) {
        this.node = node;
        this.cloner = cloner;
        this.cloneTimeout = cloneTimeout;
    }

    /** @param cloneTimeout how long the clone of one image may take (all its blocks are local by then) */
    public static CarImporter of(RegistryStore store, Duration cloneTimeout) {
        if (cloneTimeout.isNegative() || cloneTimeout.isZero()) {
            throw new IllegalArgumentException("clone timeout must be positive, not " + cloneTimeout);
        }
        return new CarImporter(store.node(), store.cloner(), cloneTimeout);
    }

    /** The outcome for one root of the CAR: imported when {@code failure} is empty. */
    public record Outcome(Cid root, Optional<String> failure) {
        public boolean imported() {
            return failure.isEmpty();
        }
    }

    /**
     * Imports the CAR (the stream is read to its end, not closed) and returns one outcome per root,
     * in the header's order. A CAR that cannot be read or verified is an {@link IpfsException} and
     * nothing is pinned or made visible.
     */
    public List<Outcome> importCar(InputStream car) throws IOException {
        VerifyingCarReader verified = VerifyingCarReader.of(car);
        List<Cid> roots = node.dagImport(verified);
        if (!roots.equals(verified.roots())) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "the node read the roots " + roots
                    + " from a CAR whose header names " + verified.roots());
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Cid root : roots) {
            outcomes.add(importRoot(root));
        }
        return outcomes;
    }

    private Outcome importRoot(Cid root) throws IOException {
        Optional<Cid> missing = CompletenessWalk.firstMissing(root, CompletenessWalk.of(node));
        if (missing.isPresent()) {
            return failed(root, "the CAR is incomplete (truncated?): image " + root + " lacks block " + missing.get());
        }
        Optional<ContentAddress> address = ContentAddress.of(RepositoryName.parse(root.toString()));
        if (address.isEmpty() || address.get().isDigest()) {
            return failed(root, "root " + root + " cannot name an image (not a CIDv1)");
        }
        node.pinAdd(root);
        try {
            cloner.ensurePresent(address.get(), true, cloneTimeout);
        } catch (OciException | IOException e) {
            unpin(root);
            return failed(root, "image " + root + " was not imported: " + message(e));
        } catch (RuntimeException e) {
            unpin(root);
            throw e;
        }
        LOG.info("imported {} from a CAR", root);
        return new Outcome(root, Optional.empty());
    }

    private static String message(Exception e) {
        if (e instanceof OciException oci && oci.code() == OciErrorCode.NAME_UNKNOWN) {
            return "it is not a mirrorball image (" + oci.getMessage() + ")";
        }
        return e.getMessage();
    }

    private void unpin(Cid root) {
        try {
            node.pinRm(root);
        } catch (IOException e) {
            LOG.warn("unpinning {} after a failed import: {}", root, e.getMessage());
        }
    }

    private static Outcome failed(Cid root, String why) {
        LOG.debug("{}", why);
        return new Outcome(root, Optional.of(why));
    }
}
