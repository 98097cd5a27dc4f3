package io.mirrorball.web;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import jakarta.servlet.ServletRequest;

/**
 * A parsed, validated request of the distribution API. Which fields are set depends on the kind:
 * {@code name} for everything but BASE and CATALOG, {@code reference} for MANIFEST,
 * {@code digest} for BLOB and REFERRERS, {@code uploadId} for UPLOAD.
 */
public record Route(RouteKind kind, String method, RepositoryName name, Reference reference, Digest digest,
                    String uploadId) {
    static final String ATTRIBUTE = Route.class.getName();

    /** The route the routing filter attached to this request. */
    public static Route of(ServletRequest request) {
        Route route = (Route) request.getAttribute(ATTRIBUTE);
        if (route == null) {
            throw new IllegalStateException("request was not routed: RoutingFilter must come first");
        }
        return route;
    }

    public boolean isRead() {
        return method.equals("GET") || method.equals("HEAD");
    }

    public boolean isHead() {
        return method.equals("HEAD");
    }
}
