package io.mirrorball.web;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import jakarta.servlet.ServletRequest;

/**
 * A parsed, validated request of the distribution API. Which fields are set depends on the kind:
 * {@code name} for everything but BASE and CATALOG, {@code reference} for MANIFEST,
 * {@code digest} for BLOB and REFERRERS, {@code uploadId} for UPLOAD. {@code ns} is the registry
 * host of containerd's {@code ?ns=} query parameter on a route with a name, or null.
 */
public record Route(RouteKind kind, String method, RepositoryName name, Reference reference, Digest digest,
                    String uploadId, RegistryHost ns) {
    static final String ATTRIBUTE = Route.class.getName();

    /** A route without {@code ?ns=}. */
    public Route(RouteKind kind, String method, RepositoryName name, Reference reference, Digest digest,
                 String uploadId) {
        this(kind, method, name, reference, digest, uploadId, null);
    }

    /** The registry the client means ({@code ?ns=}, containerd's mirror requests), if it said. */
    public java.util.Optional<RegistryHost> namespace() {
        return java.util.Optional.ofNullable(ns);
    }

    /** The route the routing filter attached to this request. */
    public static Route of(ServletRequest request) {
        Route route = (Route) request.getAttribute(ATTRIBUTE);
        if (route == null) {
            throw new IllegalStateException("request was not routed: RoutingFilter must come first");
        }
        return route;
    }

    /** The same request for another repository name (an alias such as nerdctl's {@code ipfs/<cid>}). */
    public Route withName(RepositoryName other) {
        return new Route(kind, method, other, reference, digest, uploadId, ns);
    }

    public boolean isRead() {
        return method.equals("GET") || method.equals("HEAD");
    }

    public boolean isHead() {
        return method.equals("HEAD");
    }
}
