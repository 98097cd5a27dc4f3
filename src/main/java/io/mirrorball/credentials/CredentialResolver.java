package io.mirrorball.credentials;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Finds the credentials for a (registry, repository), the way skopeo and Docker do, in this order:
 * <ol>
 * <li>explicit credentials ({@code --src-creds}, {@code --src-password-stdin}, {@code --dest-creds});</li>
 * <li>{@code --authfile}, else {@code $REGISTRY_AUTH_FILE};</li>
 * <li>{@code ${XDG_RUNTIME_DIR}/containers/auth.json};</li>
 * <li>{@code ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json};</li>
 * <li>{@code ${DOCKER_CONFIG:-~/.docker}/config.json};</li>
 * <li>{@code ~/.dockercfg}.</li>
 * </ol>
 * The first file with an entry wins. Within a file, {@code credHelpers[host]} comes before {@code auths},
 * and {@code auths} before {@code credsStore}. Nothing is read before the first lookup, each file is read
 * once, and a successful lookup per (registry, repository) is remembered (two concurrent first calls may
 * both look up; a failure is not remembered); {@link #supplier} defers even that to the first call, so
 * no helper runs for a registry that never asks for credentials. Explicit credentials apply to every
 * registry, so a command makes one resolver per side (source, destination). The environment and home
 * directory are given, never read from the process.
 */
public final class CredentialResolver {
    private final Credentials explicit;
    private final List<Candidate> candidates;
    private final String path;
    private final Duration helperTimeout;
    private final Map<Candidate, AuthFiles> files = new ConcurrentHashMap<>();
    private final Map<String, Credentials> resolved = new ConcurrentHashMap<>();

    /** A file to consult, and whether it must exist ({@code --authfile}). */
    record Candidate(Path file, AuthFiles.Format format, boolean required) {
    }

    private CredentialResolver(Credentials explicit, List<Candidate> candidates, String path,
                               Duration helperTimeout) {
        this.explicit = explicit;
        this.candidates = List.copyOf(candidates);
        this.path = path;
        this.helperTimeout = helperTimeout;
    }

    /**
     * @param explicit      credentials from the command line, used for every registry when present
     * @param authFile      {@code --authfile}, which must exist when given
     * @param environment   the environment: {@code REGISTRY_AUTH_FILE}, {@code XDG_RUNTIME_DIR},
     *                      {@code XDG_CONFIG_HOME}, {@code DOCKER_CONFIG}, and {@code PATH} for helpers
     * @param home          the user's home directory
     * @param helperTimeout how long one credential helper run may take
     */
    public static CredentialResolver of(Optional<Credentials> explicit, Optional<Path> authFile,
                                        Map<String, String> environment, Path home, Duration helperTimeout) {
        Objects.requireNonNull(home, "home");
        Map<String, String> env = Map.copyOf(environment);
        List<Candidate> candidates = new ArrayList<>();
        if (authFile.isPresent()) {
            candidates.add(new Candidate(authFile.get(), AuthFiles.Format.AUTH_JSON, true));
        } else {
            variable(env, "REGISTRY_AUTH_FILE").ifPresent(file ->
                    candidates.add(new Candidate(Path.of(file), AuthFiles.Format.AUTH_JSON, false)));
        }
        variable(env, "XDG_RUNTIME_DIR").ifPresent(dir -> candidates.add(
                new Candidate(Path.of(dir, "containers", "auth.json"), AuthFiles.Format.AUTH_JSON, false)));
        Path configHome = variable(env, "XDG_CONFIG_HOME").map(Path::of).orElse(home.resolve(".config"));
        candidates.add(new Candidate(configHome.resolve("containers").resolve("auth.json"),
                AuthFiles.Format.AUTH_JSON, false));
        Path dockerConfig = variable(env, "DOCKER_CONFIG").map(Path::of).orElse(home.resolve(".docker"));
        candidates.add(new Candidate(dockerConfig.resolve("config.json"), AuthFiles.Format.DOCKER_CONFIG, false));
        candidates.add(new Candidate(home.resolve(".dockercfg"), AuthFiles.Format.LEGACY_DOCKERCFG, false));
        return new CredentialResolver(explicit.orElse(null), candidates, env.getOrDefault("PATH", ""),
                helperTimeout);
    }

    private static Optional<String> variable(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).filter(value -> !value.isEmpty());
    }

    /** The files consulted, in order. */
    List<Path> files() {
        return candidates.stream().map(Candidate::file).toList();
    }

    /**
     * The credentials for a repository on a registry host ({@code host[:port]}), {@link Credentials#ANONYMOUS}
     * when no file has an entry.
     *
     * @throws CredentialsException when a file is malformed ({@code INVALID_FILE}) or a helper fails
     *                              ({@code HELPER_FAILED}); a failure is not remembered
     */
    public Credentials resolve(String registry, String repository) {
        if (explicit != null) {
            return explicit;
        }
        String key = RegistryKeys.host(registry) + "/" + (repository == null ? "" : repository);
        Credentials known = resolved.get(key);
        if (known != null) {
            return known;
        }
        Credentials found = lookup(registry, repository);
        Credentials previous = resolved.putIfAbsent(key, found);
        return previous != null ? previous : found;
    }

    /** Looks up on the first call only, so nothing runs for a registry that never needs credentials. */
    public Supplier<Credentials> supplier(String registry, String repository) {
        return () -> resolve(registry, repository);
    }

    private Credentials lookup(String registry, String repository) {
        for (Candidate candidate : candidates) {
            AuthFiles file = files.computeIfAbsent(candidate, CredentialResolver::read);
            Optional<Credentials> found = fromFile(file, registry, repository);
            if (found.isPresent()) {
                return found.get();
            }
        }
        return Credentials.ANONYMOUS;
    }

    private static AuthFiles read(Candidate candidate) {
        if (candidate.required() && !Files.exists(candidate.file())) {
            throw new CredentialsException(CredentialsException.Kind.INVALID_FILE,
                    "credentials file " + candidate.file() + ": does not exist");
        }
        return AuthFiles.read(candidate.file(), candidate.format());
    }

    private Optional<Credentials> fromFile(AuthFiles file, String registry, String repository) {
        Optional<String> helper = file.helperFor(registry);
        if (helper.isPresent()) {
            Optional<Credentials> found = helper(helper.get()).get(registry);
            if (found.isPresent()) {
                return found;
            }
        }
        Optional<Credentials> entry = file.entryFor(registry, repository);
        if (entry.isPresent()) {
            return entry;
        }
        Optional<String> store = file.credsStore();
        if (store.isPresent()) {
            return helper(store.get()).get(registry);
        }
        return Optional.empty();
    }

    private CredentialHelper helper(String name) {
        return CredentialHelper.of(name, path, helperTimeout);
    }
}
