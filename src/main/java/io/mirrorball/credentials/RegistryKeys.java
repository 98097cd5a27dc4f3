package io.mirrorball.credentials;

import java.util.Locale;
import java.util.Set;

/**
 * The one place that knows how credential keys are spelled: scheme and {@code /v1/} path dropped,
 * host lower-cased, Docker Hub's aliases folded to {@code docker.io}.
 */
final class RegistryKeys {
    static final String DOCKER_HUB = "docker.io";
    /** The server URL Docker's tools use for Hub in helpers and legacy files. */
    static final String DOCKER_HUB_SERVER_URL = "https://index.docker.io/v1/";
    private static final Set<String> DOCKER_HUB_ALIASES = Set.of("docker.io", "index.docker.io",
            "registry-1.docker.io", "registry.hub.docker.com");

    private RegistryKeys() {
    }

    /** A registry host ({@code host[:port]}), lower-cased, Hub aliases folded to {@code docker.io}. */
    static String host(String registry) {
        String host = registry.trim().toLowerCase(Locale.ROOT);
        return DOCKER_HUB_ALIASES.contains(host) ? DOCKER_HUB : host;
    }

    /**
     * A key of a credentials file: {@code https://index.docker.io/v1/} is {@code docker.io}. With
     * {@code namespaces}, a path that is not an API version stays ({@code host/namespace[/repo]}),
     * otherwise only the host is kept.
     */
    static String fileKey(String key, boolean namespaces) {
        String text = key.trim();
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://")) {
            text = text.substring("https://".length());
        } else if (lower.startsWith("http://")) {
            text = text.substring("http://".length());
        }
        int slash = text.indexOf('/');
        String host = host(slash < 0 ? text : text.substring(0, slash));
        String path = slash < 0 ? "" : text.substring(slash + 1).replaceAll("/+$", "");
        if (!namespaces || path.equals("v1") || path.equals("v2")) {
            path = "";
        }
        return path.isEmpty() ? host : host + "/" + path;
    }

    /** The server URL a credential helper is asked about: Hub's legacy URL, or the host itself. */
    static String helperServerUrl(String registry) {
        String host = host(registry);
        return host.equals(DOCKER_HUB) ? DOCKER_HUB_SERVER_URL : host;
    }
}
