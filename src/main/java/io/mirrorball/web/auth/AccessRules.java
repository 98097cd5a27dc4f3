package io.mirrorball.web.auth;

import io.mirrorball.config.MirrorballConfig;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The access rules of {@code auth.access}, the groups of {@code auth.groups} and the administrators of
 * {@code auth.admins}. For a repository the rule with the longest prefix of its name decides (prefix ""
 * matches every name); a user listed in {@code push} may also pull. {@code anonymous} in {@code pull}
 * lets clients without credentials pull. Where no rule matches, every authenticated user may do
 * everything, and anonymous clients may pull when {@code auth.anonymous-pull} is true.
 */
public final class AccessRules {
    static final String ANONYMOUS = "anonymous";

    /** Longest prefix first. */
    private final List<MirrorballConfig.AccessRule> rules;
    private final Map<String, Set<String>> groups;
    private final List<String> admins;
    private final boolean anonymousPull;

    private AccessRules(List<MirrorballConfig.AccessRule> rules, Map<String, Set<String>> groups, List<String> admins,
                        boolean anonymousPull) {
        this.rules = rules.stream().sorted(Comparator.comparingInt(
                (MirrorballConfig.AccessRule r) -> r.prefix().length()).reversed()).toList();
        this.groups = Map.copyOf(groups);
        this.admins = List.copyOf(admins);
        this.anonymousPull = anonymousPull;
    }

    public static AccessRules of(MirrorballConfig.Auth auth) {
        Map<String, Set<String>> groups = new HashMap<>();
        auth.groups().forEach(g -> groups.put(g.name(), Set.copyOf(g.members())));
        return new AccessRules(auth.access(), groups, auth.admins(), auth.anonymousPull());
    }

    /**
     * Whether {@code user} (null: anonymous) may do every action of the scope on its repository. Scopes
     * of other types (the catalog) follow the default: users yes, anonymous clients when anonymous pull is on.
     */
    public boolean allows(String user, Scope scope) {
        if (!Scope.REPOSITORY.equals(scope.type())) {
            return user != null || anonymousPull;
        }
        Optional<MirrorballConfig.AccessRule> rule = ruleFor(scope.name());
        for (String action : scope.actions()) {
            boolean allowed = rule.map(r -> allowedByRule(r, user, action))
                    .orElse(user != null || (anonymousPull && Scope.PULL.equals(action)));
            if (!allowed) {
                return false;
            }
        }
        return true;
    }

    /** Whether an anonymous client may pull anything: under anonymous pull, or by some rule naming anonymous. */
    public boolean anyAnonymousPull() {
        return anonymousPull || rules.stream().anyMatch(r -> r.pull().contains(ANONYMOUS));
    }

    /** Whether anonymous clients may read what is not a repository (the catalog, /ipfs/ paths). */
    public boolean anonymousPull() {
        return anonymousPull;
    }

    /** Whether {@code user} may use administrative operations; with no admins listed nobody may. */
    public boolean isAdmin(String user) {
        if (user == null) {
            return false;
        }
        return matches(admins, user);
    }

    /** The rule with the longest prefix of {@code repository}. */
    Optional<MirrorballConfig.AccessRule> ruleFor(String repository) {
        return rules.stream().filter(r -> repository.startsWith(r.prefix())).findFirst();
    }

    private boolean allowedByRule(MirrorballConfig.AccessRule rule, String user, String action) {
        if (user == null) {
            return Scope.PULL.equals(action) && rule.pull().contains(ANONYMOUS);
        }
        return switch (action) {
            case Scope.PULL -> matches(rule.pull(), user) || matches(rule.push(), user);
            case Scope.PUSH -> matches(rule.push(), user);
            case Scope.DELETE -> matches(rule.delete(), user);
            default -> false;
        };
    }

    /** Whether the principals name the user, directly or through a group it belongs to. */
    private boolean matches(List<String> principals, String user) {
        Set<String> seen = new HashSet<>();
        for (String principal : principals) {
            if (principal.startsWith("@")) {
                if (seen.add(principal) && groups.getOrDefault(principal.substring(1), Set.of()).contains(user)) {
                    return true;
                }
            } else if (principal.equals(user)) {
                return true;
            }
        }
        return false;
    }
}
