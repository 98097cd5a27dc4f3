package io.mirrorball.web;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The route table: parses the raw (undecoded) request path of the distribution API. A name
 * outside the OCI grammar is NAME_INVALID and a malformed digest DIGEST_INVALID, before any
 * storage is touched. Percent-escapes never decode into a name, so none can leave the MFS root.
 */
final class RouteParser {
    private static final Pattern MANIFEST = Pattern.compile("^/v2/(.+)/manifests/([^/]+)$");
    private static final Pattern UPLOAD_START = Pattern.compile("^/v2/(.+)/blobs/uploads/?$");
    private static final Pattern UPLOAD = Pattern.compile("^/v2/(.+)/blobs/uploads/([^/]+)$");
    private static final Pattern BLOB = Pattern.compile("^/v2/(.+)/blobs/([^/]+)$");
    private static final Pattern TAGS = Pattern.compile("^/v2/(.+)/tags/list$");
    private static final Pattern REFERRERS = Pattern.compile("^/v2/(.+)/referrers/([^/]+)$");

    private RouteParser() {
    }

    /**
     * As {@link #parse(String, String)}, with the raw query string: {@code ns=<registry host>} (which
     * containerd adds to every request to a mirror) is read here for routes with a name; one that is no
     * registry host is NAME_INVALID.
     */
    static Route parse(String method, String path, String query) {
        Route route = parse(method, path);
        if (route.name() == null) {
            return route;
        }
        java.util.Optional<String> ns = QueryParameters.first(query, "ns");
        if (ns.isEmpty()) {
            return route;
        }
        RegistryHost host;
        try {
            host = RegistryHost.parse(ns.get());
        } catch (IllegalArgumentException e) {
            throw new OciException(OciErrorCode.NAME_INVALID, "ns=" + abbreviate(ns.get())
                    + " is not a registry host (host or host:port, e.g. docker.io)");
        }
        return new Route(route.kind(), route.method(), route.name(), route.reference(), route.digest(),
                route.uploadId(), host);
    }

    static Route parse(String method, String path) {
        if (path.equals("/v2") || path.equals("/v2/")) {
            return checked(new Route(RouteKind.BASE, method, null, null, null, null));
        }
        if (path.equals("/v2/_catalog")) {
            return checked(new Route(RouteKind.CATALOG, method, null, null, null, null));
        }
        Matcher m;
        if ((m = MANIFEST.matcher(path)).matches()) {
            RepositoryName name = RepositoryName.parse(m.group(1));
            return checked(new Route(RouteKind.MANIFEST, method, name, reference(method, m.group(2)), null, null));
        }
        if ((m = UPLOAD_START.matcher(path)).matches()) {
            return checked(new Route(RouteKind.UPLOAD_START, method, RepositoryName.parse(m.group(1)), null, null,
                    null));
        }
        if ((m = UPLOAD.matcher(path)).matches()) {
            return checked(new Route(RouteKind.UPLOAD, method, RepositoryName.parse(m.group(1)), null, null,
                    m.group(2)));
        }
        if ((m = BLOB.matcher(path)).matches()) {
            RepositoryName name = RepositoryName.parse(m.group(1));
            return checked(new Route(RouteKind.BLOB, method, name, null, Digest.parse(m.group(2)), null));
        }
        if ((m = TAGS.matcher(path)).matches()) {
            return checked(new Route(RouteKind.TAGS, method, RepositoryName.parse(m.group(1)), null, null, null));
        }
        if ((m = REFERRERS.matcher(path)).matches()) {
            RepositoryName name = RepositoryName.parse(m.group(1));
            return checked(new Route(RouteKind.REFERRERS, method, name, null, Digest.parse(m.group(2)), null));
        }
        throw new OciException(OciErrorCode.NOT_FOUND, "no route for " + abbreviate(path));
    }

    /**
     * A tag or a digest. A reference that is neither a tag nor digest-shaped names nothing: a PUT is
     * refused as invalid (400), while a GET, HEAD or DELETE finds no such manifest (404), as in
     * distribution, whose route table does not match it.
     */
    private static Reference reference(String method, String text) {
        if (text.indexOf(':') >= 0) {
            return Reference.ofDigest(Digest.parse(text));
        }
        if (!Reference.isTag(text)) {
            if (method.equals("PUT")) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID, "invalid tag " + abbreviate(text));
            }
            throw new OciException(OciErrorCode.MANIFEST_UNKNOWN, "no manifest has the reference "
                    + abbreviate(text) + ": it is not a valid tag");
        }
        return Reference.ofTag(text);
    }

    private static Route checked(Route route) {
        if (!route.kind().methods().contains(route.method())) {
            throw new OciException(OciErrorCode.METHOD_UNKNOWN, route.method() + " is not allowed on "
                    + route.kind().metricName()).withHeader("Allow", String.join(", ",
                    new java.util.TreeSet<>(route.kind().methods())));
        }
        return route;
    }

    private static String abbreviate(String text) {
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }
}
