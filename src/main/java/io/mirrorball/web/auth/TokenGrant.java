package io.mirrorball.web.auth;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * What a verified token grants: its subject ("" for an anonymous token) and, per resource
 * ({@code type:name}), the actions of its {@code access} claim ({@code *} grants every action).
 */
public record TokenGrant(String subject, Map<String, Set<String>> access, Instant expires) {
    public TokenGrant {
        access = Map.copyOf(access);
    }

    /** Whether every action of the scope is granted. */
    public boolean allows(Scope scope) {
        Set<String> granted = access.getOrDefault(scope.type() + ":" + scope.name(), Set.of());
        return granted.contains("*") || granted.containsAll(scope.actions());
    }
}
