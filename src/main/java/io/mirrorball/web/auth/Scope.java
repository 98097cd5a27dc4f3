package io.mirrorball.web.auth;

import java.util.Set;
import java.util.TreeSet;

/**
 * One resource and the actions asked on it, as the token spec writes a scope:
 * {@code repository:team-a/app:pull,push} or {@code registry:catalog:*}.
 */
public record Scope(String type, String name, Set<String> actions) {
    public static final String REPOSITORY = "repository";
    public static final String PULL = "pull";
    public static final String PUSH = "push";
    public static final String DELETE = "delete";
    /** The catalog scope, which {@code GET /v2/_catalog} needs. */
    public static final Scope CATALOG = new Scope("registry", "catalog", Set.of("*"));

    public Scope {
        actions = Set.copyOf(actions);
    }

    static Scope repository(String name, String... actions) {
        return new Scope(REPOSITORY, name, Set.of(actions));
    }

    /** {@code type:name:action,action}, actions sorted as distribution writes them. */
    @Override
    public String toString() {
        return type + ":" + name + ":" + String.join(",", new TreeSet<>(actions));
    }
}
