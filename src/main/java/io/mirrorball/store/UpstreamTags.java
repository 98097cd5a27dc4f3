package io.mirrorball.store;

import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Tag to digest as learned from each upstream, kept in MFS so that it survives a restart: under
 * {@code upstreams/<upstream host>/<name>/_manifests/tags/<tag>/current/link} (distribution's link
 * layout), with the media type the upstream answered beside the manifest's revision.
 *
 * <p>Crash safety: the manifest bytes are put into the {@link BlobStore} (by digest, verified) before
 * anything here points at them, the media type is keyed by digest, and the tag link is written last,
 * in one small-file write. A torn or tampered link is not a digest and is ignored on read; a link to a
 * digest is only ever served through the blob store, which checks the bytes against that digest.
 *
 * <p>The listing and {@link #remove} calls are for the catalog and for retention.
 */
public final class UpstreamTags {
    private static final int LINK_CAP = 200;

    private final IpfsNode node;
    private final MfsPaths paths;
    /** Tag writes and removals so far (see {@link RegistryStore#changes()}). */
    private final java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();

    UpstreamTags(IpfsNode node, MfsPaths paths) {
        this.node = node;
        this.paths = paths;
    }

    /** What a tag pointed at upstream when it was last seen; the media type may be unknown (null). */
    public record Tagged(Digest digest, String mediaType) {
    }

    /** A valid upstream name (a registry host, with an optional port) that can name an area here. */
    public static boolean isUpstreamName(String upstream) {
        return MfsPaths.isUpstreamName(upstream);
    }

    /** The tag as last persisted; empty when none was, or when its link is not a digest (torn or tampered). */
    public Optional<Tagged> read(String upstream, RepositoryName name, String tag) throws IOException {
        requireTag(tag);
        Optional<String> link = readSmall(paths.upstreamTagLink(upstream, name, tag));
        if (link.isEmpty() || !Digest.isDigest(link.get())) {
            return Optional.empty();
        }
        Digest digest = Digest.parse(link.get());
        Optional<String> mediaType = readSmall(paths.upstreamRevisionMediaType(upstream, name, digest))
                .filter(MediaTypes.ALL::contains);
        return Optional.of(new Tagged(digest, mediaType.orElse(null)));
    }

    /**
     * Points a tag at a digest. The caller has put the manifest into the blob store first; the media
     * type (when known) is written before the link, which is written last.
     */
    public void write(String upstream, RepositoryName name, String tag, Digest digest, String mediaType)
            throws IOException {
        requireTag(tag);
        writes.incrementAndGet();
        if (mediaType != null && MediaTypes.ALL.contains(mediaType)) {
            node.filesWrite(paths.upstreamRevisionMediaType(upstream, name, digest),
                    mediaType.getBytes(StandardCharsets.UTF_8));
        }
        node.filesWrite(paths.upstreamTagLink(upstream, name, tag), digest.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Forgets a tag (retention, or the upstream said it is gone); a repository left without tags is
     * removed whole. True when the tag was there.
     */
    public boolean remove(String upstream, RepositoryName name, String tag) throws IOException {
        requireTag(tag);
        writes.incrementAndGet();
        String path = paths.upstreamTag(upstream, name, tag);
        if (node.filesStat(path).isEmpty()) {
            return false;
        }
        node.filesRm(path);
        if (tags(upstream, name).isEmpty()) {
            node.filesRm(paths.upstreamRepository(upstream, name));
        }
        return true;
    }

    /** Forgets everything learned about a repository from an upstream. */
    public void removeRepository(String upstream, RepositoryName name) throws IOException {
        writes.incrementAndGet();
        node.filesRm(paths.upstreamRepository(upstream, name));
    }

    long writes() {
        return writes.get();
    }

    /** The upstreams something was learned from, sorted. */
    public List<String> upstreams() throws IOException {
        List<String> names = new ArrayList<>();
        for (IpfsNode.FileEntry e : list(paths.upstreams())) {
            if (e.directory() && MfsPaths.isUpstreamName(e.name())) {
                names.add(e.name());
            }
        }
        return names;
    }

    /** Repositories with persisted tags from one upstream, sorted. */
    public List<RepositoryName> repositories(String upstream) throws IOException {
        List<RepositoryName> names = new ArrayList<>();
        walk(paths.upstream(upstream), "", names, 0);
        names.sort(null);
        return names;
    }

    /** The persisted tags of a repository from one upstream, sorted; empty when there are none. */
    public List<String> tags(String upstream, RepositoryName name) throws IOException {
        List<String> tags = new ArrayList<>();
        for (IpfsNode.FileEntry e : list(paths.upstreamTags(upstream, name))) {
            if (e.directory() && Reference.isTag(e.name())) {
                tags.add(e.name());
            }
        }
        tags.sort(null);
        return tags;
    }

    private void walk(String dir, String prefix, List<RepositoryName> names, int depth) throws IOException {
        if (depth > 32) {
            return;
        }
        boolean isRepository = false;
        for (IpfsNode.FileEntry e : list(dir)) {
            if (!e.directory()) {
                continue;
            }
            if (e.name().equals("_manifests")) {
                isRepository = true;
            } else if (!e.name().startsWith("_")) {
                walk(dir + "/" + e.name(), prefix.isEmpty() ? e.name() : prefix + "/" + e.name(), names, depth + 1);
            }
        }
        if (isRepository && RepositoryName.isValid(prefix)) {
            names.add(RepositoryName.parse(prefix));
        }
    }

    private List<IpfsNode.FileEntry> list(String dir) throws IOException {
        try {
            return node.filesLs(dir);
        } catch (IpfsNotFoundException e) {
            return List.of();
        }
    }

    private Optional<String> readSmall(String path) throws IOException {
        try (InputStream in = node.filesRead(path, 0, LINK_CAP)) {
            byte[] buffer = new byte[LINK_CAP];
            int n = StreamCopy.readFully(in, buffer);
            return Optional.of(new String(buffer, 0, n, StandardCharsets.UTF_8).trim());
        } catch (IpfsNotFoundException e) {
            return Optional.empty();
        }
    }

    private static void requireTag(String tag) {
        if (!Reference.isTag(tag)) {
            throw new IllegalArgumentException("invalid tag " + tag);
        }
    }
}
