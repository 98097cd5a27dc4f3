package io.mirrorball.upstream;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import java.util.Optional;
import java.util.Set;

/**
 * The routing rules between several upstreams, by name only: which upstream a request means and the
 * repository name to ask it for.
 * <ol>
 * <li>{@code ?ns=<registry host>} (containerd's mirror requests): the upstream of that name, the
 * repository name unchanged; an {@code ns} no upstream stands for is NAME_UNKNOWN, never another
 * registry.</li>
 * <li>a first name component that is an upstream's name ({@code ghcr.io/org/app}): that upstream,
 * with the rest of the name ({@code org/app}).</li>
 * <li>neither: the default upstream, the name unchanged; none when there is no default.</li>
 * </ol>
 * Names are canonical registry hosts ({@link RegistryHost#name()}), so Docker Hub's aliases are one.
 */
final class UpstreamRoutes {
    /** The upstream (by name) a request goes to and the repository name it has there. */
    record Choice(String upstream, RepositoryName remoteName) {
    }

    private final Set<String> names;
    private final String defaultName;

    /**
     * @param names       every upstream's canonical name, the default's included
     * @param defaultName the default upstream's name, or null when there is none
     */
    UpstreamRoutes(Set<String> names, String defaultName) {
        this.names = Set.copyOf(names);
        this.defaultName = defaultName;
        if (defaultName != null && !names.contains(defaultName)) {
            throw new IllegalArgumentException("the default upstream " + defaultName + " is not among " + names);
        }
    }

    /** The canonical form of an upstream name or a name component; empty when it is no registry host. */
    static Optional<String> canonical(String host) {
        try {
            return Optional.of(RegistryHost.parse(host).name());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The upstream for a request's repository name and its {@code ns}; empty when no upstream answers
     * for it (no default). Throws NAME_UNKNOWN for an {@code ns} that names no upstream.
     */
    Optional<Choice> choose(RepositoryName name, Optional<RegistryHost> ns) {
        if (ns.isPresent()) {
            String host = ns.get().name();
            if (!names.contains(host)) {
                throw new OciException(OciErrorCode.NAME_UNKNOWN, "no upstream is configured for the registry "
                        + host + " (ns=" + host + "), so " + name + " is not known here");
            }
            return Optional.of(new Choice(host, name));
        }
        String value = name.value();
        int slash = value.indexOf('/');
        if (slash > 0) {
            Optional<String> prefix = canonical(value.substring(0, slash)).filter(names::contains);
            if (prefix.isPresent()) {
                return Optional.of(new Choice(prefix.get(), RepositoryName.parse(value.substring(slash + 1))));
            }
        }
        return defaultName == null ? Optional.empty() : Optional.of(new Choice(defaultName, name));
    }
}
