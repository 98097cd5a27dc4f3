package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online check of the store (docs/gc.md, "Scrub"): every blob entry is read whole and checked
 * against its digest ({@link RegistryFsck#blobProblem}). With repair, a blob that fails is removed from
 * serving and handed to a {@link Refetch}, which fetches a pulled-through blob again from its upstream
 * (verified as it streams into the store); a pushed blob stays removed until it is pushed again. Links
 * and tags are left as they are: a re-push or a pull puts the blob back under them.
 */
public final class Scrub {
    private static final Logger LOG = LoggerFactory.getLogger(Scrub.class);

    private final IpfsNode node;
    private final MfsPaths paths;
    private final BlobStore blobs;

    /** Fetches a blob again from where it came from; true when the store holds it (verified) afterwards. */
    @FunctionalInterface
    public interface Refetch {
        boolean refetch(Digest digest) throws IOException;
    }

    /**
     * One blob that failed its check.
     *
     * @param action "reported" (no repair), "removed" (no upstream had it), or "repaired" (fetched again)
     */
    public record Finding(Digest digest, String problem, String action) {
    }

    /** @param blobsChecked blob entries read; {@code bytesChecked} their total size */
    public record Report(long blobsChecked, long bytesChecked, List<Finding> findings, boolean repair) {
        public Report {
            findings = List.copyOf(findings);
        }

        public boolean clean() {
            return findings.isEmpty();
        }
    }

    Scrub(IpfsNode node, MfsPaths paths, BlobStore blobs) {
        this.node = node;
        this.paths = paths;
        this.blobs = blobs;
    }

    /** One pass over every blob; passes do not overlap. */
    public synchronized Report run(boolean repair, Refetch refetch) throws IOException {
        long checked = 0;
        long bytes = 0;
        List<Finding> findings = new ArrayList<>();
        for (Digest digest : blobs.digests()) {
            if (node.filesStat(paths.blobData(digest)).isEmpty()) {
                continue; // only a displaced DAG of disco's (see BlobStore)
            }
            Optional<String> problem = RegistryFsck.blobProblem(node, paths, digest);
            if (problem.isEmpty()) {
                checked++;
                bytes += blobs.stat(digest).map(BlobInfo::size).orElse(0L);
                continue;
            }
            if (!repair) {
                LOG.error("scrub: {}: {}", digest, problem.get());
                findings.add(new Finding(digest, problem.get(), "reported"));
                continue;
            }
            blobs.remove(digest);
            boolean repaired;
            try {
                repaired = refetch.refetch(digest)
                        && RegistryFsck.blobProblem(node, paths, digest).isEmpty();
            } catch (IOException | RuntimeException e) {
                LOG.warn("scrub: fetching {} again: {}", digest, e.toString());
                repaired = false;
            }
            String action = repaired ? "repaired" : "removed";
            LOG.error("scrub: {}: {}; {}", digest, problem.get(), repaired ? "fetched again from its upstream"
                    : "removed from serving until it is pushed or pulled again");
            findings.add(new Finding(digest, problem.get(), action));
        }
        io.mirrorball.log.Events.log("fsck", "checked", checked + findings.size(), "problems", findings.size(),
                "repaired", findings.stream().filter(f -> f.action().equals("repaired")).count());
        return new Report(checked + findings.size(), bytes, findings, repair);
    }

    private List<IpfsNode.FileEntry> list(String dir) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return List.of();
        }
    }
}
