package io.mirrorball.upstream;

import io.mirrorball.oci.RepositoryName;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Where the upstream is, and how a local name maps to a name there. Docker Hub accepts
 * {@code docker.io}, {@code index.docker.io} and {@code registry-1.docker.io}, all served by
 * {@code https://registry-1.docker.io}, and keeps official images under {@code library/}.
 */
record UpstreamEndpoint(URI base, boolean dockerHub) {
    static final String DOCKER_HUB_HOST = "registry-1.docker.io";
    private static final Set<String> DOCKER_HUB_ALIASES = Set.of("docker.io", "index.docker.io", DOCKER_HUB_HOST,
            "registry.hub.docker.com");

    /** Parses {@code upstream.url}: {@code https://host[:port][/]}, or a bare host (https is assumed). */
    static UpstreamEndpoint parse(String url) {
        String text = url.trim();
        if (!text.contains("://")) {
            text = "https://" + text;
        }
        URI uri = URI.create(text);
        if (uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new IllegalArgumentException("upstream.url must be an http(s) URL, not " + url);
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (DOCKER_HUB_ALIASES.contains(host)) {
            return new UpstreamEndpoint(URI.create("https://" + DOCKER_HUB_HOST), true);
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        String port = uri.getPort() >= 0 ? ":" + uri.getPort() : "";
        return new UpstreamEndpoint(URI.create(uri.getScheme() + "://" + host + port + path), false);
    }

    /** The name upstream: {@code alpine} is {@code library/alpine} on Docker Hub. */
    String remoteName(RepositoryName name) {
        if (dockerHub && name.components() == 1) {
            return "library/" + name.value();
        }
        return name.value();
    }

    /** {@code <base>/v2/<remote name>/<suffix>}; suffix and query are already valid URI text. */
    URI resolve(RepositoryName name, String suffix, String query) {
        String q = query == null || query.isEmpty() ? "" : "?" + query;
        return URI.create(base + "/v2/" + remoteName(name) + "/" + suffix + q);
    }

    /** Whether a URI points at the upstream itself (credentials may go there), rather than a redirect host. */
    boolean isSameOrigin(URI uri) {
        return uri.getScheme().equalsIgnoreCase(base.getScheme()) && uri.getHost().equalsIgnoreCase(base.getHost())
                && effectivePort(uri) == effectivePort(base);
    }

    private static int effectivePort(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }
}
