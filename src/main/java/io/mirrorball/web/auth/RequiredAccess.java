package io.mirrorball.web.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a request asks for, read from its method and raw path before the request is routed (so that an
 * anonymous client learns nothing of the routes): the scopes of the token spec for the registry API
 * (as distribution derives them: GET and HEAD pull; POST, PUT and PATCH pull and push; DELETE deletes;
 * a cross-repository mount also pulls its {@code from}), or that it is the version check, the catalog,
 * an administrative endpoint, or something else.
 *
 * @param repository the repository name of a {@link Kind#REPOSITORY} request (as written in the path,
 *                   not yet validated), else null
 */
public record RequiredAccess(Kind kind, String method, String repository, List<Scope> scopes) {
    private static final Pattern REPOSITORY_PATH = Pattern.compile(
            "^/v2/(.+)/(?:manifests/[^/]+|blobs/uploads/?|blobs/uploads/[^/]+|blobs/[^/]+|tags/list|referrers/[^/]+)$");

    public enum Kind {
        /** {@code /v2/}: the version check, which asks for authentication but no scope. */
        BASE,
        /** {@code /v2/_catalog}. */
        CATALOG,
        /** A repository of the registry API. */
        REPOSITORY,
        /** {@code /admin} and everything under it. */
        ADMIN,
        /** Anything else ({@code /ipfs/...}, unknown paths): reading it is a pull without a repository. */
        OTHER
    }

    public RequiredAccess {
        scopes = List.copyOf(scopes);
    }

    /**
     * @param path  the request path without the context path, still percent-encoded
     * @param query the raw query string, or null
     */
    public static RequiredAccess of(String method, String path, String query) {
        if (path.equals("/v2") || path.equals("/v2/")) {
            return new RequiredAccess(Kind.BASE, method, null, List.of());
        }
        if (path.equals("/v2/_catalog")) {
            return new RequiredAccess(Kind.CATALOG, method, null, List.of(Scope.CATALOG));
        }
        if (path.equals("/admin") || path.startsWith("/admin/")) {
            return new RequiredAccess(Kind.ADMIN, method, null, List.of());
        }
        Matcher m = REPOSITORY_PATH.matcher(path);
        if (!m.matches()) {
            return new RequiredAccess(Kind.OTHER, method, null, List.of());
        }
        String name = m.group(1);
        List<Scope> scopes = new ArrayList<>();
        scopes.add(Scope.repository(name, actions(method)));
        if ("POST".equals(method)) {
            parameter(query, "from").filter(from -> !from.equals(name))
                    .ifPresent(from -> scopes.add(Scope.repository(from, Scope.PULL)));
        }
        return new RequiredAccess(Kind.REPOSITORY, method, name, scopes);
    }

    /** Whether the request only reads (GET, HEAD). */
    public boolean isRead() {
        return "GET".equals(method) || "HEAD".equals(method);
    }

    private static String[] actions(String method) {
        return switch (method) {
            case "GET", "HEAD" -> new String[] {Scope.PULL};
            case "DELETE" -> new String[] {Scope.DELETE};
            default -> new String[] {Scope.PULL, Scope.PUSH};
        };
    }

    private static Optional<String> parameter(String query, String name) {
        if (query == null) {
            return Optional.empty();
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                String value = java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
                return value.isEmpty() ? Optional.empty() : Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
