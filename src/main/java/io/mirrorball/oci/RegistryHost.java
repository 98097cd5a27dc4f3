package io.mirrorball.oci;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registry host as an image name spells it, canonical: Docker Hub is {@code docker.io} whichever of
 * its aliases ({@code docker.io}, {@code index.docker.io}, {@code registry-1.docker.io},
 * {@code registry.hub.docker.com}) was written, and its API is {@code https://registry-1.docker.io};
 * other hosts are lower-cased and keep their port. The one class that owns Docker Hub's rules.
 */
public record RegistryHost(String host, int port, boolean dockerHub) {
    /** Docker Hub's canonical name, also its key in credentials files. */
    public static final String DOCKER_HUB = "docker.io";
    /** Where Docker Hub's registry API is served. */
    public static final URI DOCKER_HUB_API = URI.create("https://registry-1.docker.io");
    private static final Set<String> DOCKER_HUB_ALIASES = Set.of(DOCKER_HUB, "index.docker.io",
            "registry-1.docker.io", "registry.hub.docker.com");
    private static final Pattern HOST_PORT = Pattern.compile(
            "(?<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\\[[0-9a-f:.]+\\])"
                    + "(?::(?<port>[0-9]{1,5}))?");

    public RegistryHost {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("a registry host is required");
        }
        if (port < -1 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port);
        }
    }

    /** Parses {@code host[:port]} (case-insensitive; {@code [v6]:port} too); throws IllegalArgumentException quoting the text. */
    public static RegistryHost parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("a registry host is required");
        }
        Matcher m = HOST_PORT.matcher(text.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid registry host \"" + text + "\"");
        }
        String host = m.group("host");
        int port = m.group("port") == null ? -1 : Integer.parseInt(m.group("port"));
        if (port > 65535) {
            throw new IllegalArgumentException("invalid registry host \"" + text + "\": port over 65535");
        }
        if (DOCKER_HUB_ALIASES.contains(host) && port < 0) {
            return new RegistryHost(DOCKER_HUB, -1, true);
        }
        return new RegistryHost(host, port, false);
    }

    /** Docker Hub. */
    public static RegistryHost dockerHubHost() {
        return new RegistryHost(DOCKER_HUB, -1, true);
    }

    /**
     * Docker's rule for the first component of an image name: it is a registry host only if it holds
     * a {@code .} or a {@code :}, or is {@code localhost}; otherwise the name is on Docker Hub.
     */
    public static boolean looksLikeHost(String firstComponent) {
        return firstComponent.indexOf('.') >= 0 || firstComponent.indexOf(':') >= 0
                || firstComponent.equals("localhost");
    }

    /** {@code host[:port]}: {@code docker.io} for Docker Hub. */
    public String name() {
        return port < 0 ? host : host + ":" + port;
    }

    /**
     * The base of the registry API ({@code /v2/} is below it): {@code https://registry-1.docker.io} for
     * Docker Hub, else {@code https://host[:port]}, or {@code http://} when {@code plainHttp} (never for Hub).
     */
    public URI apiBase(boolean plainHttp) {
        if (dockerHub) {
            return DOCKER_HUB_API;
        }
        return URI.create((plainHttp ? "http://" : "https://") + name());
    }

    @Override
    public String toString() {
        return name();
    }
}
