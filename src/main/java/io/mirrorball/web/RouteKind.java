package io.mirrorball.web;

import java.util.Set;

/** The resources of the distribution API, with the methods each accepts. */
public enum RouteKind {
    BASE(Set.of("GET", "HEAD")),
    CATALOG(Set.of("GET", "HEAD")),
    MANIFEST(Set.of("GET", "HEAD", "PUT", "DELETE")),
    BLOB(Set.of("GET", "HEAD", "DELETE")),
    UPLOAD_START(Set.of("POST")),
    UPLOAD(Set.of("GET", "PATCH", "PUT", "DELETE")),
    TAGS(Set.of("GET", "HEAD")),
    REFERRERS(Set.of("GET", "HEAD")),
    /** Anything that is not the registry API: a 404 from the routing filter. */
    OTHER(Set.of());

    private final Set<String> methods;

    RouteKind(Set<String> methods) {
        this.methods = methods;
    }

    public Set<String> methods() {
        return methods;
    }

    /** Name used in metrics: {@code manifest}, {@code upload_start}, ... */
    public String metricName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
