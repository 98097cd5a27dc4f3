package io.mirrorball.ui;

import io.mirrorball.oci.RepositoryName;
import java.util.function.Predicate;

/**
 * Who is looking at the page, and which repositories they may see: exactly those they may pull.
 *
 * @param user     the signed-in user, or null for an anonymous visitor
 * @param mayPull  whether the visitor may pull a repository of this name
 * @param canLogIn whether the page offers a sign-in (htpasswd, where a browser can send Basic credentials)
 */
public record Visitor(String user, Predicate<RepositoryName> mayPull, boolean canLogIn) {
    /** A visitor of a gateway without authentication: everything is visible. */
    static Visitor unrestricted() {
        return new Visitor(null, name -> true, false);
    }

    public boolean anonymous() {
        return user == null;
    }
}
