package io.mirrorball.web;

import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import io.mirrorball.web.auth.AccessRules;
import io.mirrorball.web.auth.BearerChallenge;
import io.mirrorball.web.auth.InvalidTokenException;
import io.mirrorball.web.auth.RequiredAccess;
import io.mirrorball.web.auth.Scope;
import io.mirrorball.web.auth.TokenGrant;
import io.mirrorball.web.auth.TokenVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Filter 3 of the chain: authentication (htpasswd Basic or bearer tokens) and access rules.
 *
 * <ul>
 *   <li>No authentication configured: every request passes; clients on the loopback address are
 *       administrators ({@value #ADMIN_ATTRIBUTE}), others get 403 on {@code /admin/}.</li>
 *   <li>{@code /livez}, {@code /readyz} and the metrics path never need credentials.</li>
 *   <li>htpasswd ({@code auth.htpasswd.path}): Basic credentials, checked whenever they are sent (a
 *       wrong password is a 401, never a silent downgrade; Basic with an empty user and password counts
 *       as none). The challenge is {@code Basic realm="mirrorball"}.</li>
 *   <li>Token ({@code auth.token}): a bearer JWT of the Docker token spec ({@link TokenVerifier}); the
 *       token must grant the scopes the request needs ({@link RequiredAccess}, as distribution derives
 *       them), else 401 with a {@code Bearer} challenge naming them ({@code error="invalid_token"} or
 *       {@code "insufficient_scope"}, as distribution answers).</li>
 *   <li>Then the access rules ({@link AccessRules}) decide: a client without credentials that may not
 *       do what it asks gets 401 with the challenge, an authenticated user 403 DENIED.</li>
 *   <li>The version check {@code /v2/} passes without credentials when anonymous pulls are possible
 *       anywhere, carrying the challenge header so that clients that read it (skopeo, podman) know
 *       where to authenticate for pushes; otherwise it is a 401 with the challenge.</li>
 * </ul>
 *
 * <p>The authenticated user (htpasswd user or token subject) is put in {@value #USER_ATTRIBUTE}; on a
 * refused login {@value #LOGIN_FAILED_ATTRIBUTE} is TRUE (and the user attribute holds the name tried).
 * Users of {@code auth.admins} (nobody when it is empty) get {@value #ADMIN_ATTRIBUTE}.
 */
public final class AuthFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AuthFilter.class);

    /** Request attribute holding the authenticated user name. */
    public static final String USER_ATTRIBUTE = "mirrorball.user";
    /** Request attribute set to {@code Boolean.TRUE} when credentials were sent and refused ({@link #USER_ATTRIBUTE} then holds the name tried). */
    public static final String LOGIN_FAILED_ATTRIBUTE = "mirrorball.login-failed";
    /**
     * Request attribute set to {@code Boolean.TRUE} when the request may use administrative operations
     * (deleting a content-addressed repository, {@code /admin/}). Without any authentication configured
     * that is a client on the loopback address.
     */
    public static final String ADMIN_ATTRIBUTE = "mirrorball.admin";
    static final String CHALLENGE = "Basic realm=\"mirrorball\"";
    private static final Set<String> OPEN_PATHS = Set.of("/livez", "/readyz");

    private final transient Ticker ticker;
    private final transient Clock clock;
    private transient String metricsPath;
    private transient HtpasswdLogins logins;
    private transient TokenVerifier tokens;
    private transient BearerChallenge bearer;
    private transient AccessRules rules;

    public AuthFilter() {
        this(Ticker.systemTicker(), Clock.systemUTC());
    }

    /** For tests: the ticker drives the expiry of cached credentials. */
    AuthFilter(Ticker ticker) {
        this(ticker, Clock.systemUTC());
    }

    /** For tests: the ticker drives the expiry of cached credentials, the clock that of tokens. */
    AuthFilter(Ticker ticker, Clock clock) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void init() throws ServletException {
        Object attribute = getServletContext().getAttribute(MirrorballConfig.class.getName());
        if (!(attribute instanceof MirrorballConfig config)) {
            throw new ServletException("AuthFilter: servlet context attribute " + MirrorballConfig.class.getName()
                    + " is missing");
        }
        MirrorballConfig.Auth auth = config.auth();
        this.metricsPath = config.metrics().path();
        this.rules = AccessRules.of(auth);
        if (auth.htpasswd() != null) {
            try {
                this.logins = HtpasswdLogins.open(auth.htpasswd(), ticker);
            } catch (IOException e) {
                throw new ServletException("auth.htpasswd.path: cannot read " + auth.htpasswd() + ": " + e, e);
            }
            LOG.info("auth: {} users from {}, anonymous pulls {}, {} access rules", logins.users(), auth.htpasswd(),
                    auth.anonymousPull() ? "allowed" : "refused", auth.access().size());
        } else if (auth.token() != null) {
            try {
                this.tokens = TokenVerifier.of(auth.token(), clock, ticker);
            } catch (IOException e) {
                throw new ServletException("auth.token.rootcertbundle: " + e.getMessage(), e);
            }
            this.bearer = new BearerChallenge(auth.token().realm().toString(), auth.token().service());
            LOG.info("auth: tokens of {} for service {} (realm {}), anonymous pulls {}, {} access rules",
                    auth.token().issuer(), auth.token().service(), auth.token().realm(),
                    auth.anonymousPull() ? "allowed" : "refused", auth.access().size());
        } else {
            LOG.info("auth: no authentication configured, every request is allowed");
        }
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (OPEN_PATHS.contains(path) || path.equals(metricsPath)) {
            chain.doFilter(request, response);
            return;
        }
        RequiredAccess need = RequiredAccess.of(request.getMethod(), path, request.getQueryString());
        if (logins == null && tokens == null) {
            if (isLoopback(request.getRemoteAddr())) {
                request.setAttribute(ADMIN_ATTRIBUTE, Boolean.TRUE);
            } else if (need.kind() == RequiredAccess.Kind.ADMIN) {
                throw new OciException(OciErrorCode.DENIED, "administrative operations are only for clients on "
                        + "the loopback address while no authentication is configured");
            }
            chain.doFilter(request, response);
            return;
        }
        String user = tokens != null ? bearerUser(request, need) : basicUser(request);
        if (user != null) {
            request.setAttribute(USER_ATTRIBUTE, user);
            if (rules.isAdmin(user)) {
                request.setAttribute(ADMIN_ATTRIBUTE, Boolean.TRUE);
            }
        }
        authorize(request, response, need, user);
        chain.doFilter(request, response);
    }

    /** Refuses what the user (null: anonymous) may not do: 401 with the challenge when anonymous, else 403. */
    private void authorize(HttpServletRequest request, HttpServletResponse response, RequiredAccess need,
                           String user) {
        switch (need.kind()) {
            case BASE -> {
                if (user == null) {
                    if (!rules.anyAnonymousPull()) {
                        throw challenge(need, BearerChallenge.Error.NONE, "authentication required");
                    }
                    response.setHeader("WWW-Authenticate", challengeHeader(need, BearerChallenge.Error.NONE));
                }
            }
            case ADMIN -> {
                if (request.getAttribute(ADMIN_ATTRIBUTE) == null) {
                    if (user == null) {
                        throw challenge(need, BearerChallenge.Error.NONE, "authentication required");
                    }
                    throw new OciException(OciErrorCode.DENIED, "administrative operations are not allowed for "
                            + "this user");
                }
            }
            case CATALOG, REPOSITORY -> {
                for (Scope scope : need.scopes()) {
                    if (!rules.allows(user, scope)) {
                        if (user == null) {
                            throw challenge(need, BearerChallenge.Error.NONE, "authentication required");
                        }
                        throw new OciException(OciErrorCode.DENIED, "requested access to the resource is denied");
                    }
                }
            }
            case OTHER -> {
                if (user == null && !(need.isRead() && rules.anonymousPull())) {
                    throw challenge(need, BearerChallenge.Error.NONE, "authentication required");
                }
            }
        }
    }

    /** The user of valid Basic credentials, or null when none were sent. */
    private String basicUser(HttpServletRequest request) {
        String[] credentials;
        try {
            credentials = basicCredentials(request.getHeader("Authorization"));
        } catch (OciException e) {
            request.setAttribute(LOGIN_FAILED_ATTRIBUTE, Boolean.TRUE);
            throw e;
        }
        if (credentials == null) {
            return null;
        }
        if (!logins.verify(credentials[0], credentials[1])) {
            LOG.info("auth: refused credentials for user '{}'", LogText.escape(credentials[0]));
            request.setAttribute(USER_ATTRIBUTE, credentials[0]);
            request.setAttribute(LOGIN_FAILED_ATTRIBUTE, Boolean.TRUE);
            throw unauthorized("invalid username or password");
        }
        return credentials[0];
    }

    /**
     * The subject of a valid bearer token granting what the request needs; null when no token was sent
     * (or an anonymous token with the needed scopes).
     */
    private String bearerUser(HttpServletRequest request, RequiredAccess need) {
        String token = bearerToken(request.getHeader("Authorization"));
        if (token == null) {
            return null;
        }
        TokenGrant grant;
        try {
            grant = tokens.verify(token);
        } catch (InvalidTokenException e) {
            LOG.info("auth: refused a bearer token: {}", LogText.escape(e.getMessage()));
            request.setAttribute(LOGIN_FAILED_ATTRIBUTE, Boolean.TRUE);
            throw challenge(need, BearerChallenge.Error.INVALID_TOKEN, "invalid token");
        }
        for (Scope scope : need.scopes()) {
            if (!grant.allows(scope)) {
                throw challenge(need, BearerChallenge.Error.INSUFFICIENT_SCOPE, "the token does not grant "
                        + scope);
            }
        }
        return grant.subject().isEmpty() ? null : grant.subject();
    }

    /** How many bcrypt verifications ran (the cache is working when this stays low). */
    long bcryptVerifications() {
        return logins == null ? 0 : logins.bcryptVerifications();
    }

    private OciException challenge(RequiredAccess need, BearerChallenge.Error error, String detail) {
        return new OciException(OciErrorCode.UNAUTHORIZED, detail)
                .withHeader("WWW-Authenticate", challengeHeader(need, error));
    }

    private String challengeHeader(RequiredAccess need, BearerChallenge.Error error) {
        return bearer == null ? CHALLENGE : bearer.header(need.scopes(), error);
    }

    /** The token of a Bearer Authorization header, or null when there is none or it is another scheme. */
    static String bearerToken(String authorization) {
        if (authorization == null) {
            return null;
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase("Bearer")) {
            return null;
        }
        String token = value.substring(space + 1).strip();
        return token.isEmpty() ? null : token;
    }

    /**
     * The user and password of a Basic Authorization header; null when there is none, it is another
     * scheme, or both user and password are empty.
     */
    static String[] basicCredentials(String authorization) {
        if (authorization == null) {
            return null;
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        String scheme = space < 0 ? value : value.substring(0, space);
        if (!scheme.equalsIgnoreCase("Basic")) {
            return null;
        }
        String token = space < 0 ? "" : value.substring(space + 1).strip();
        if (token.isEmpty()) {
            throw unauthorized("malformed Basic credentials");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw unauthorized("malformed Basic credentials");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw unauthorized("malformed Basic credentials");
        }
        String user = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        if (user.isEmpty() && password.isEmpty()) {
            return null;
        }
        return new String[] {user, password};
    }

    static boolean isLoopback(String address) {
        return address != null && (address.startsWith("127.") || address.equals("::1")
                || address.equals("0:0:0:0:0:0:0:1") || address.equals("[::1]"));
    }

    static OciException unauthorized(String detail) {
        return new OciException(OciErrorCode.UNAUTHORIZED, detail).withHeader("WWW-Authenticate", CHALLENGE);
    }
}
