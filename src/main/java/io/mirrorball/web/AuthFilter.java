package io.mirrorball.web;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Filter 3 of the chain: htpasswd Basic authentication.
 *
 * <ul>
 *   <li>No {@code auth.htpasswd.path} configured: every request passes.</li>
 *   <li>Pulls (GET, HEAD) pass without credentials when {@code auth.anonymous-pull} is true. An
 *       anonymous {@code GET /v2/} then also carries the Basic challenge header, so clients that read
 *       it (skopeo, podman) know to send their credentials for pushes.</li>
 *   <li>Every other request needs valid Basic credentials; a refusal is
 *       {@link OciErrorCode#UNAUTHORIZED} with {@code WWW-Authenticate: Basic realm="mirrorball"},
 *       which the errors filter turns into the 401.</li>
 *   <li>Credentials that are sent are always checked, even on a pull that could be anonymous: a
 *       wrong password is a 401, never a silent downgrade. (Basic with an empty user and password,
 *       which some clients send when they have none, counts as no credentials.)</li>
 * </ul>
 *
 * <p>{@code /livez}, {@code /readyz} and the metrics path ({@code metrics.path}) pass without
 * credentials, whatever is configured (credentials sent to them are not checked).
 *
 * <p>The authenticated user is put in the request attribute {@value #USER_ATTRIBUTE}. Verified
 * credentials are cached for a minute (bcrypt is slow on purpose; a push of many chunks must not pay
 * it per request), keyed by a salted SHA-256 of {@code user:password} and the file's generation. The
 * file is read again whenever its modification time, size or identity changes; the cache is then
 * dropped, so a removed user or changed password takes effect on the next request.
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
    private static final Duration CACHE_EXPIRY = Duration.ofMinutes(1);
    private static final long CACHE_SIZE = 10_000;

    private final transient Ticker ticker;
    private final transient AtomicLong bcryptVerifications = new AtomicLong();
    private final byte[] salt = new byte[32];
    private transient Path file;
    private boolean anonymousPull;
    /** Paths that never need credentials: the health checks and the metrics. */
    private transient java.util.Set<String> open = java.util.Set.of();
    private transient Cache<String, String> verified;
    /** The users as of the last read of {@link #file}; replaced whole on reload. */
    private transient volatile Loaded loaded;

    private record FileState(Object key, long modified, long size) {
        static FileState of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileState(attributes.fileKey(), attributes.lastModifiedTime().toMillis(), attributes.size());
        }
    }

    private record Loaded(Htpasswd users, FileState state, long generation) {
    }

    public AuthFilter() {
        this(Ticker.systemTicker());
    }

    /** For tests: the ticker drives the expiry of cached credentials. */
    AuthFilter(Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    @Override
    public void init() throws ServletException {
        Object attribute = getServletContext().getAttribute(MirrorballConfig.class.getName());
        if (!(attribute instanceof MirrorballConfig config)) {
            throw new ServletException("AuthFilter: servlet context attribute " + MirrorballConfig.class.getName()
                    + " is missing");
        }
        this.file = config.auth().htpasswd();
        this.anonymousPull = config.auth().anonymousPull();
        this.open = java.util.Set.of(HealthServlet.LIVE, HealthServlet.READY, config.metrics().path());
        if (file == null) {
            LOG.info("auth: no htpasswd file configured, every request is allowed");
            return;
        }
        new SecureRandom().nextBytes(salt);
        this.verified = Caffeine.newBuilder()
                .maximumSize(CACHE_SIZE)
                .expireAfterWrite(CACHE_EXPIRY)
                .ticker(ticker)
                .build();
        try {
            this.loaded = load(0);
        } catch (IOException e) {
            throw new ServletException("auth.htpasswd.path: cannot read " + file + ": " + e, e);
        }
        LOG.info("auth: {} users from {}, anonymous pulls {}", loaded.users().size(), file,
                anonymousPull ? "allowed" : "refused");
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (file == null) {
            if (isLoopback(request.getRemoteAddr())) {
                request.setAttribute(ADMIN_ATTRIBUTE, Boolean.TRUE);
            }
            chain.doFilter(request, response);
            return;
        }
        if (open.contains(request.getRequestURI().substring(request.getContextPath().length()))) {
            chain.doFilter(request, response); // probes and scrapers have no credentials
            return;
        }
        String[] credentials = basicCredentials(request.getHeader("Authorization"));
        if (credentials != null) {
            try {
                request.setAttribute(USER_ATTRIBUTE, authenticate(credentials[0], credentials[1]));
            } catch (OciException refused) {
                // the access line names who tried
                request.setAttribute(USER_ATTRIBUTE, credentials[0]);
                request.setAttribute(LOGIN_FAILED_ATTRIBUTE, Boolean.TRUE);
                throw refused;
            }
        } else if (anonymousPull && isPull(request)) {
            if (isVersionCheck(request)) {
                response.setHeader("WWW-Authenticate", CHALLENGE);
            }
        } else {
            throw unauthorized("authentication required");
        }
        chain.doFilter(request, response);
    }

    /** How many bcrypt verifications ran (the cache is working when this stays low). */
    long bcryptVerifications() {
        return bcryptVerifications.get();
    }

    private String authenticate(String user, String password) {
        Loaded current = current();
        String key = cacheKey(current.generation(), user, password);
        String cached = verified.getIfPresent(key);
        if (cached != null) {
            return cached;
        }
        bcryptVerifications.incrementAndGet();
        if (!current.users().verify(user, password)) {
            LOG.info("auth: refused credentials for user '{}'", LogText.escape(user));
            throw unauthorized("invalid username or password");
        }
        verified.put(key, user);
        return user;
    }

    /** The users, read again when the file changed since the last look. */
    private Loaded current() {
        Loaded last = loaded;
        FileState now;
        try {
            now = FileState.of(file);
        } catch (IOException e) {
            LOG.warn("auth: htpasswd file {} is unreadable, refusing logins: {}", file, e.toString());
            throw new OciException(OciErrorCode.UNAVAILABLE, "the htpasswd file cannot be read", e);
        }
        if (now.equals(last.state())) {
            return last;
        }
        synchronized (this) {
            if (!now.equals(loaded.state())) {
                try {
                    loaded = load(loaded.generation() + 1);
                } catch (IOException e) {
                    LOG.warn("auth: cannot reload htpasswd file {}, refusing logins: {}", file, e.toString());
                    throw new OciException(OciErrorCode.UNAVAILABLE, "the htpasswd file cannot be read", e);
                }
                verified.invalidateAll();
                LOG.info("auth: reloaded {} ({} users)", file, loaded.users().size());
            }
            return loaded;
        }
    }

    private Loaded load(long generation) throws IOException {
        // the state is taken before the read: a change during the read is seen by the next request
        FileState state = FileState.of(file);
        Htpasswd users = Htpasswd.read(file);
        users.problems().forEach(problem -> LOG.warn("auth: {}", LogText.escape(problem)));
        return new Loaded(users, state, generation);
    }

    private String cacheKey(long generation, String user, String password) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(salt);
            sha256.update((generation + "\n" + user + ":" + password).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
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

    private static boolean isPull(HttpServletRequest request) {
        String method = request.getMethod();
        return "GET".equals(method) || "HEAD".equals(method);
    }

    private static boolean isVersionCheck(HttpServletRequest request) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        return "/v2/".equals(path) || "/v2".equals(path);
    }

    static OciException unauthorized(String detail) {
        return new OciException(OciErrorCode.UNAUTHORIZED, detail).withHeader("WWW-Authenticate", CHALLENGE);
    }
}
