package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks the registry's MFS layout against what the node can serve, and with repair removes what
 * cannot be served, so that a re-push or a pull-through restores it.
 *
 * <ul>
 * <li>Every blob entry ({@code blobs/<alg>/<xx>/<hex>/data}) is read whole and checked against its
 * digest. An entry whose blocks are missing or corrupt, or whose bytes are not the digest's (placed
 * unverified by an older version), is lost: repair removes it.</li>
 * <li>Every repository's {@code _layers} and {@code _manifests/revisions} links, and every tag, must
 * name a sound blob. A link to a lost blob dangles: repair removes it from an ordinary repository
 * (and a tag whose manifest is lost); a content-addressed repository (the CID or digest copy of an
 * image) with a dangling link is removed whole: a pull of the CID clones it again (checking every
 * blob), and a push of the image publishes it again.</li>
 * </ul>
 * Run it on a node nothing else writes to (the embedded node is locked by the process that opened it).
 */
public final class RegistryFsck {
    private final IpfsNode node;
    private final MfsPaths paths;
    private final Set<Digest> sound = new HashSet<>();
    private final List<Problem> problems = new ArrayList<>();
    private long blobs;
    private long bytes;
    private long links;

    /** One thing that cannot be served: the MFS path, what is wrong, and whether repair removed it. */
    public record Problem(String path, String what, boolean removed) {
    }

    /**
     * @param blobsChecked blob entries read and checked against their digests
     * @param bytesChecked their total size
     * @param linksChecked repository links and tags checked
     * @param problems     lost blobs and dangling links, in the order found
     */
    public record Report(long blobsChecked, long bytesChecked, long linksChecked, List<Problem> problems) {
        public Report {
            problems = List.copyOf(problems);
        }

        public boolean clean() {
            return problems.isEmpty();
        }
    }

    private RegistryFsck(IpfsNode node, MfsPaths paths) {
        this.node = node;
        this.paths = paths;
    }

    /** A check of the registry under {@code mfsRoot} (storage.ipfs.mfs-root) on this node. */
    public static Report check(IpfsNode node, String mfsRoot, boolean repair) throws IOException {
        RegistryFsck fsck = new RegistryFsck(node, new MfsPaths(mfsRoot));
        fsck.checkBlobs(repair);
        fsck.checkRepositories(fsck.paths.repositories(), "", 0, repair);
        return new Report(fsck.blobs, fsck.bytes, fsck.links, fsck.problems);
    }

    private void checkBlobs(boolean repair) throws IOException {
        for (IpfsNode.FileEntry algorithm : list(paths.blobs(), repair)) {
            if (!algorithm.directory() || !algorithm.name().matches("[a-z0-9]+")) {
                continue;
            }
            for (IpfsNode.FileEntry prefix : list(paths.blobs() + "/" + algorithm.name(), repair)) {
                if (!prefix.directory() || !prefix.name().matches("[a-f0-9]{2}")) {
                    continue;
                }
                for (IpfsNode.FileEntry blob : list(paths.blobPrefix(algorithm.name(), prefix.name()), repair)) {
                    String text = algorithm.name() + ":" + blob.name();
                    if (blob.directory() && Digest.isDigest(text) && blob.name().startsWith(prefix.name())) {
                        checkBlob(Digest.parse(text), repair);
                    }
                }
            }
        }
    }

    private void checkBlob(Digest digest, boolean repair) throws IOException {
        Optional<String> problem = blobProblem(node, paths, digest);
        if (problem.isEmpty()) {
            Optional<IpfsNode.FileStat> stat = node.filesStat(paths.blobData(digest));
            blobs++;
            bytes += stat.map(IpfsNode.FileStat::size).orElse(0L);
            sound.add(digest);
            return;
        }
        report(paths.blobDirectory(digest), problem.get(), repair);
    }

    /**
     * Reads a blob entry whole and checks it against its digest: empty when it is sound, else what is
     * wrong (no data, a block missing, bytes that are not the digest's). An unavailable node throws.
     */
    static Optional<String> blobProblem(IpfsNode node, MfsPaths paths, Digest digest) throws IOException {
        String data = paths.blobData(digest);
        try {
            Optional<IpfsNode.FileStat> stat = node.filesStat(data);
            if (stat.isEmpty() || stat.get().directory()) {
                return Optional.of("blob directory without data");
            }
            try (InputStream in = node.catUnverified(stat.get().cid().toString(), 0, -1)) {
                StreamCopy.copyVerified(in, OutputStream.nullOutputStream(), digest, stat.get().size(),
                        "blob " + digest);
            }
            return Optional.empty();
        } catch (IpfsNotFoundException e) {
            return Optional.of("blob lost: a block of it is missing (" + e.getMessage() + ")");
        } catch (IpfsException e) {
            if (e.kind() != IpfsException.Kind.CORRUPT && e.kind() != IpfsException.Kind.FAILED) {
                throw e; // the node is unavailable: nothing can be judged
            }
            return Optional.of("blob lost: " + e.getMessage());
        }
    }

    /** Walks repositories: directories holding {@code _layers} or {@code _manifests}, at any depth. */
    private void checkRepositories(String dir, String prefix, int depth, boolean repair) throws IOException {
        if (depth > 32) {
            return;
        }
        boolean isRepository = false;
        for (IpfsNode.FileEntry e : list(dir, repair)) {
            if (!e.directory()) {
                continue;
            }
            if (e.name().equals("_manifests") || e.name().equals("_layers")) {
                isRepository = true;
            } else if (!e.name().startsWith("_")) {
                checkRepositories(dir + "/" + e.name(), prefix.isEmpty() ? e.name() : prefix + "/" + e.name(),
                        depth + 1, repair);
            }
        }
        if (isRepository && RepositoryName.isValid(prefix)) {
            checkRepository(RepositoryName.parse(prefix), repair);
        }
    }

    private void checkRepository(RepositoryName name, boolean repair) throws IOException {
        boolean contentAddressed = ContentAddress.of(name).isPresent();
        boolean fixLinks = repair && !contentAddressed;
        int before = problems.size();
        for (IpfsNode.FileEntry algorithm : list(paths.layers(name), fixLinks)) {
            for (IpfsNode.FileEntry link : list(paths.layers(name, algorithm.name()), fixLinks)) {
                Optional<Digest> digest = digest(algorithm.name(), link.name());
                if (digest.isPresent()) {
                    checkLink(digest.get(), paths.layerDirectory(name, digest.get()), "layer link", fixLinks);
                }
            }
        }
        for (IpfsNode.FileEntry algorithm : list(paths.revisions(name), fixLinks)) {
            for (IpfsNode.FileEntry link : list(paths.revisions(name, algorithm.name()), fixLinks)) {
                Optional<Digest> digest = digest(algorithm.name(), link.name());
                if (digest.isPresent()) {
                    checkLink(digest.get(), paths.revisionDirectory(name, digest.get()), "manifest revision", fixLinks);
                }
            }
        }
        for (IpfsNode.FileEntry tag : list(paths.tags(name), fixLinks)) {
            if (!tag.directory() || !io.mirrorball.oci.Reference.isTag(tag.name())) {
                continue;
            }
            Optional<Digest> current;
            try {
                current = readLink(paths.tagCurrentLink(name, tag.name()));
            } catch (IpfsException e) {
                if (e.kind() != IpfsException.Kind.CORRUPT && e.kind() != IpfsException.Kind.FAILED) {
                    throw e;
                }
                links++;
                report(paths.tag(name, tag.name()), "unreadable tag " + tag.name() + ": " + e.getMessage(), fixLinks);
                continue;
            }
            if (current.isPresent()) {
                checkLink(current.get(), paths.tag(name, tag.name()), "tag " + tag.name(), fixLinks);
            }
        }
        if (contentAddressed && problems.size() > before && repair) {
            node.filesRm(paths.repository(name));
            problems.add(new Problem(paths.repository(name), "content-addressed repository with "
                    + (problems.size() - before) + " dangling link(s): removed whole; a pull of a CID clones it again,"
                    + " a push of the image publishes it again", true));
        }
    }

    private void checkLink(Digest digest, String path, String kind, boolean repair) throws IOException {
        links++;
        if (!sound.contains(digest)) {
            report(path, kind + " to " + digest + ", which is not stored (or was lost)", repair);
        }
    }

    private void report(String path, String what, boolean repair) throws IOException {
        if (repair) {
            node.filesRm(path);
        }
        problems.add(new Problem(path, what, repair));
    }

    /** The entries of a directory; none when it does not exist; an unreadable one is a problem. */
    private List<IpfsNode.FileEntry> list(String dir, boolean repair) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return List.of();
        } catch (IpfsException e) {
            if (e.kind() != IpfsException.Kind.CORRUPT && e.kind() != IpfsException.Kind.FAILED) {
                throw e;
            }
            report(dir, "unreadable directory: " + e.getMessage(), repair);
            return List.of();
        }
    }

    private Optional<Digest> readLink(String path) throws IOException {
        try (InputStream in = node.filesRead(path, 0, 200)) {
            byte[] buffer = new byte[200];
            int n = StreamCopy.readFully(in, buffer);
            String text = new String(buffer, 0, n, StandardCharsets.UTF_8).trim();
            return Digest.isDigest(text) ? Optional.of(Digest.parse(text)) : Optional.empty();
        } catch (IpfsNotFoundException e) {
            return Optional.empty();
        }
    }

    private static Optional<Digest> digest(String algorithm, String hex) {
        String text = algorithm + ":" + hex;
        try {
            return Digest.isDigest(text) ? Optional.of(Digest.parse(text)) : Optional.empty();
        } catch (OciException e) {
            return Optional.empty();
        }
    }
}
