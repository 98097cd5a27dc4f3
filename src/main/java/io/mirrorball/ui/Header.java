package io.mirrorball.ui;

/** What every page's header shows: who is signed in, or a sign-in link where one can sign in. */
public record Header(String title, String user, boolean canLogIn) {
    static Header of(String title, Visitor visitor) {
        return new Header(title, visitor.user(), visitor.anonymous() && visitor.canLogIn());
    }
}
