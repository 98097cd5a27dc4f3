package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;

/**
 * The only code that knows where objects live in MFS (the layout of docs/architecture.md, the same as disco's).
 * Every argument is an already validated value, so no path can leave the root.
 */
final class MfsPaths {
    private final String root;

    MfsPaths(String root) {
        if (!root.startsWith("/") || root.contains("..") || (root.length() > 1 && root.endsWith("/"))) {
            throw new IllegalArgumentException("invalid MFS root " + root);
        }
        this.root = root.equals("/") ? "" : root;
    }

    String root() {
        return root.isEmpty() ? "/" : root;
    }

    /** {@code blobs/sha256/<2 hex>/<hex>}: the directory of one blob. */
    String blobDirectory(Digest digest) {
        return root + "/blobs/" + digest.algorithm() + "/" + digest.hex().substring(0, 2) + "/" + digest.hex();
    }

    /** {@code blobs/sha256/<2 hex>/<hex>/data}: the blob's bytes, a file whose CID is the {@code add} CID. */
    String blobData(Digest digest) {
        return blobDirectory(digest) + "/data";
    }

    /**
     * {@code blobs/<alg>/<2 hex>/<hex>/displaced/<cid>}: another DAG of the blob's bytes that was its
     * {@code data} before the verified import replaced it (disco's {@code files/write} import, when
     * disco shares the root). Kept in MFS, so that the node's garbage collector keeps the blocks of
     * the images (disco's) that list the blob under that CID.
     */
    String displacedBlobData(Digest digest, Cid cid) {
        return blobDirectory(digest) + "/displaced/" + cid;
    }

    /**
     * {@code blobs/<alg>/<2 hex>/<hex>/mediatype}: the media type a manifest was pushed with, kept only
     * when its bytes do not say it (a Docker schema 2 manifest without a {@code mediaType} field).
     */
    String manifestMediaType(Digest digest) {
        return blobDirectory(digest) + "/mediatype";
    }

    /** {@code blobs}: one directory per digest algorithm. */
    String blobs() {
        return root + "/blobs";
    }

    /** {@code blobs/<algorithm>/<2 hex>}: the blob directories whose hex starts so. */
    String blobPrefix(String algorithm, String twoHex) {
        if (!algorithm.matches("[a-z0-9]+") || !twoHex.matches("[a-f0-9]{2}")) {
            throw new IllegalArgumentException("invalid blob prefix " + algorithm + "/" + twoHex);
        }
        return blobs() + "/" + algorithm + "/" + twoHex;
    }

    /** {@code _staging}: clones being assembled (gc removes what a crash left there, offline only). */
    String stagingRoot() {
        return root + "/_staging";
    }

    /**
     * {@code _deleted/<cid>}: the mark of an image deleted here. A pull of that CID is not cloned from
     * the blocks the node may still hold; a push that publishes the same image again removes the mark.
     */
    String deletedImage(Cid cid) {
        return root + "/_deleted/" + cid;
    }

    /**
     * {@code _ipdr/<hex>}: the ipdr view of the image published for manifest {@code sha256:<hex>}
     * (docs/formats.md). It lives outside {@code repositories/} because its entry names hold a colon,
     * which disco (distribution's path rules) refuses anywhere it walks.
     */
    String ipdrImage(Digest digest) {
        if (!digest.algorithm().equals("sha256")) {
            throw new IllegalArgumentException("ipdr views are named by sha256 digests, not " + digest);
        }
        return root + "/_ipdr/" + digest.hex();
    }

    /** {@code _ipdr}: every ipdr view. */
    String ipdrImages() {
        return root + "/_ipdr";
    }

    /** A private directory where a clone is assembled before one move makes it visible. */
    String staging(String id) {
        return root + "/_staging/" + id;
    }

    String repositories() {
        return root + "/repositories";
    }

    String repository(RepositoryName name) {
        return repositories() + "/" + name.value();
    }

    /** A repository directory named by one path component (a CID or a digest hex), validated by the caller. */
    String repository(String component) {
        if (component.isEmpty() || component.contains("/") || component.contains("..")) {
            throw new IllegalArgumentException("invalid repository component " + component);
        }
        return repositories() + "/" + component;
    }

    /**
     * {@code repositories/<cid>/blobs}: the links to every blob of an image mirrorball published,
     * which make the image self-contained; disco's image directories have none.
     */
    String imageBlobs(String component) {
        return repository(component) + "/blobs";
    }

    String layerLink(RepositoryName name, Digest digest) {
        return layerLinkIn(repository(name), digest);
    }

    /** {@code <repository directory>/_layers/<algorithm>/<hex>/link}, for a repository being assembled elsewhere. */
    static String layerLinkIn(String repositoryDirectory, Digest digest) {
        return repositoryDirectory + "/_layers/" + digest.algorithm() + "/" + digest.hex() + "/link";
    }

    String layerDirectory(RepositoryName name, Digest digest) {
        return repository(name) + "/_layers/" + digest.algorithm() + "/" + digest.hex();
    }

    /** {@code _layers/<algorithm>}: one directory per blob linked into the repository. */
    String layers(RepositoryName name, String algorithm) {
        return repository(name) + "/_layers/" + algorithm;
    }

    /** {@code _layers}: one directory per digest algorithm. */
    String layers(RepositoryName name) {
        return repository(name) + "/_layers";
    }

    /** {@code _manifests/revisions}: one directory per digest algorithm. */
    String revisions(RepositoryName name) {
        return repository(name) + "/_manifests/revisions";
    }

    String revisions(RepositoryName name, String algorithm) {
        return revisions(name) + "/" + algorithm;
    }

    String revisionLink(RepositoryName name, Digest digest) {
        return revisionLinkIn(repository(name), digest);
    }

    static String revisionLinkIn(String repositoryDirectory, Digest digest) {
        return repositoryDirectory + "/_manifests/revisions/" + digest.algorithm() + "/" + digest.hex() + "/link";
    }

    String revisionDirectory(RepositoryName name, Digest digest) {
        return repository(name) + "/_manifests/revisions/" + digest.algorithm() + "/" + digest.hex();
    }

    /** The same remembered media type in a repository's revision directory (it travels with published images). */
    String revisionMediaType(RepositoryName name, Digest digest) {
        return revisionDirectory(name, digest) + "/mediatype";
    }

    String tags(RepositoryName name) {
        return repository(name) + "/_manifests/tags";
    }

    String tag(RepositoryName name, String tag) {
        return tags(name) + "/" + tag;
    }

    String tagCurrentLink(RepositoryName name, String tag) {
        return tagCurrentLinkIn(repository(name), tag);
    }

    static String tagCurrentLinkIn(String repositoryDirectory, String tag) {
        return repositoryDirectory + "/_manifests/tags/" + tag + "/current/link";
    }

    String tagIndexLink(RepositoryName name, String tag, Digest digest) {
        return tagIndexLinkIn(repository(name), tag, digest);
    }

    static String tagIndexLinkIn(String repositoryDirectory, String tag, Digest digest) {
        return repositoryDirectory + "/_manifests/tags/" + tag + "/index/" + digest.algorithm() + "/" + digest.hex()
                + "/link";
    }

    /** Referrers of a subject: one directory per referring manifest (an extension of disco's layout). */
    String referrers(RepositoryName name, Digest subject) {
        return repository(name) + "/_referrers/" + subject.algorithm() + "/" + subject.hex();
    }

    String referrerLink(RepositoryName name, Digest subject, Digest referrer) {
        return referrers(name, subject) + "/" + referrer.algorithm() + "/" + referrer.hex() + "/link";
    }

    String referrerDirectory(RepositoryName name, Digest subject, Digest referrer) {
        return referrers(name, subject) + "/" + referrer.algorithm() + "/" + referrer.hex();
    }

    // ---------------------------------------------------------------- learned from upstreams

    /** {@code upstreams}: one directory per upstream, named by its registry host, for what it told us. */
    String upstreams() {
        return root + "/upstreams";
    }

    /** {@code upstreams/<host>}: an upstream's area; the host ({@code docker.io}, {@code 127.0.0.1:5000}) is checked. */
    String upstream(String upstream) {
        if (!isUpstreamName(upstream)) {
            throw new IllegalArgumentException("invalid upstream name " + upstream);
        }
        return upstreams() + "/" + upstream;
    }

    /** A registry host, optionally with a port: letters, digits, dots and dashes, never {@code .} or {@code ..}. */
    static boolean isUpstreamName(String upstream) {
        return upstream != null && upstream.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?")
                && !upstream.contains("..");
    }

    /** {@code upstreams/<host>/<name>}: a repository pulled through from that upstream. */
    String upstreamRepository(String upstream, RepositoryName name) {
        return upstream(upstream) + "/" + name.value();
    }

    /** {@code upstreams/<host>/<name>/_manifests/tags}: one directory per tag learned. */
    String upstreamTags(String upstream, RepositoryName name) {
        return upstreamRepository(upstream, name) + "/_manifests/tags";
    }

    String upstreamTag(String upstream, RepositoryName name, String tag) {
        return upstreamTags(upstream, name) + "/" + tag;
    }

    /** {@code .../_manifests/tags/<tag>/current/link}: {@code "sha256:<hex>"}, distribution's link layout. */
    String upstreamTagLink(String upstream, RepositoryName name, String tag) {
        return upstreamTag(upstream, name, tag) + "/current/link";
    }

    /**
     * {@code .../_manifests/revisions/<alg>/<hex>/mediatype}: the media type the upstream answered a
     * manifest with; keyed by digest, so a torn write can never pair a tag with another manifest's type.
     */
    String upstreamRevisionMediaType(String upstream, RepositoryName name, Digest digest) {
        return upstreamRepository(upstream, name) + "/_manifests/revisions/" + digest.algorithm() + "/"
                + digest.hex() + "/mediatype";
    }
}
