package io.mirrorball.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole configuration, as read from conf/mirrorball.yml with MIRRORBALL_* overrides
 * (see {@link ConfigLoader}). Every value is validated before a record is built.
 */
public record MirrorballConfig(Http http, Storage storage, Upstream upstream, List<Upstream> upstreams, Cache cache,
                               Auth auth, Metrics metrics, Log log) {

    public MirrorballConfig {
        upstreams = List.copyOf(upstreams);
    }

    /** The default upstream (when enabled) and then every entry of {@code upstreams}, in config order. */
    public List<Upstream> allUpstreams() {
        List<Upstream> all = new java.util.ArrayList<>();
        if (upstream.enabled()) {
            all.add(upstream);
        }
        all.addAll(upstreams);
        return List.copyOf(all);
    }

    /** Whether any upstream is configured: names not held here then fall through. */
    public boolean anyUpstream() {
        return upstream.enabled() || !upstreams.isEmpty();
    }

    /**
     * The embedded HTTP server ({@code addr} is {@code host:port} or {@code :port}; port 0 picks a
     * free port) and the limits that keep slow or greedy clients from taking it over.
     *
     * @param idleTimeout             a connection that moves no byte in either direction for this long
     *                                is closed
     * @param maxThreads              request threads; each request being handled holds one
     * @param maxConnectionsPerClient connections one client address may hold open; more are answered
     *                                429 TOOMANYREQUESTS; 0 means no limit
     * @param minDataRate             bytes per second a client must send or receive while the server
     *                                waits on it, averaged over {@code minDataRateWindow}; 0 means no
     *                                minimum
     * @param minDataRateWindow       the window the minimum data rate is averaged over
     * @param tls                     the certificate and key to serve HTTPS with; empty serves plain HTTP
     */
    public record Http(String host, int port, Duration idleTimeout, int maxThreads, int maxConnectionsPerClient,
                       long minDataRate, Duration minDataRateWindow, Optional<Tls> tls) {
    }

    /**
     * HTTPS on {@code http.addr} (the embedded server only; in a WAR the container's connector does TLS).
     *
     * @param certificate PEM file with the server certificate first, then its intermediates
     * @param key         PEM file with the certificate's private key (PKCS#8, PKCS#1 RSA or SEC1 EC),
     *                    unencrypted
     */
    public record Tls(Path certificate, Path key) {
    }

    public record Storage(Ipfs ipfs, Uploads uploads) {
    }

    /**
     * @param node          {@code embedded}, or the Kubo RPC URL such as {@code http://127.0.0.1:5001}; it may
     *                      carry Basic credentials ({@code http://user:password@host:5001}): print
     *                      {@link #nodeForDisplay()}, never this
     * @param nodeAuth      the secret of Kubo's API.Authorizations ({@code basic:user:password} or
     *                      {@code bearer:token}), or "" for none; never printed
     * @param maxCloneWaits requests that may wait for clones at once, and clones that may be in progress
     * @param kuboGc        the offline {@code mirrorball gc} runs Kubo's block gc ({@code repo/gc}) after its sweep
     */
    public record Ipfs(String node, String nodeAuth, Embedded embedded, String mfsRoot, boolean cloneEnabled,
                       Duration cloneTimeout, int maxCloneWaits, boolean kuboGc) {
        public boolean isEmbedded() {
            return "embedded".equals(node);
        }

        /** {@link #node()} with the password of its URL masked: {@code http://user:***@host:5001}. */
        public String nodeForDisplay() {
            return mask(node);
        }

        /** A URL with everything after the user name in its user info replaced by {@code ***}. */
        public static String mask(String url) {
            int scheme = url.indexOf("://");
            int at = url.lastIndexOf('@');
            if (scheme < 0 || at < scheme) {
                return url;
            }
            String userInfo = url.substring(scheme + 3, at);
            int colon = userInfo.indexOf(':');
            String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            return url.substring(0, scheme + 3) + user + ":***" + url.substring(at);
        }

        @Override
        public String toString() {
            return "Ipfs[node=" + nodeForDisplay() + ", nodeAuth=" + (nodeAuth.isEmpty() ? "" : "***")
                    + ", embedded=" + embedded + ", mfsRoot=" + mfsRoot + ", cloneEnabled=" + cloneEnabled
                    + ", cloneTimeout=" + cloneTimeout + ", maxCloneWaits=" + maxCloneWaits + "]";
        }
    }

    /**
     * @param gateways       IPFS HTTP trustless gateways that blocks missing locally are fetched from
     *                       (each verified against its CID); empty means local blocks only
     * @param gatewayTimeout bound on each gateway request
     */
    public record Embedded(Path path, List<URI> gateways, Duration gatewayTimeout) {
        public Embedded {
            gateways = List.copyOf(gateways);
        }
    }

    public record Uploads(Path path, Duration expireAfter) {
    }

    /**
     * One upstream registry. {@code name} is the registry host it stands for, as image names and
     * containerd's {@code ?ns=} spell it ({@code docker.io}, {@code ghcr.io}, {@code host:5000}); for the
     * default upstream it is derived from the URL. {@code url} empty means no fall-through.
     * {@code redirectAllow}: host names and CIDRs that a blob redirect (or a token service) of the
     * upstream may point at although they are loopback, private or link-local addresses.
     */
    public record Upstream(String name, String url, String username, String password, Duration tagTtl,
                           boolean mirror, boolean publish, List<String> redirectAllow) {
        public Upstream {
            redirectAllow = List.copyOf(redirectAllow);
        }

        /** The default upstream: its name is the registry host of its URL. */
        public Upstream(String url, String username, String password, Duration tagTtl, boolean mirror,
                        boolean publish, List<String> redirectAllow) {
            this(hostOf(url), url, username, password, tagTtl, mirror, publish, redirectAllow);
        }

        /** The default upstream, without a redirect allow-list. */
        public Upstream(String url, String username, String password, Duration tagTtl, boolean mirror,
                        boolean publish) {
            this(url, username, password, tagTtl, mirror, publish, List.of());
        }

        /** The registry host of an upstream URL ({@code docker.io} for Docker Hub's aliases); "" for none. */
        public static String hostOf(String url) {
            if (url == null || url.isBlank()) {
                return "";
            }
            String text = url.contains("://") ? url : "https://" + url;
            URI uri = URI.create(text.trim());
            String authority = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
            return io.mirrorball.oci.RegistryHost.parse(authority).name();
        }

        public boolean enabled() {
            return url != null && !url.isEmpty();
        }
    }

    /**
     * Retention of pulled-through content: {@code maxSize} bytes (0 = no cap), least recently used
     * removed first beyond it; {@code maxIdle} (zero = never) removes what was not used for that long.
     */
    public record Cache(long maxSize, Duration maxIdle) {
        public static final Cache NONE = new Cache(0, Duration.ZERO);
    }

    /**
     * Authentication and access rules (docs/auth.md). At most one of {@code htpasswd} and {@code token}
     * is set; neither means no authentication (and then no admins, groups or rules).
     *
     * @param htpasswd      the htpasswd file of Basic authentication, or null
     * @param token         token authentication (the Docker token spec), or null
     * @param anonymousPull pulls without credentials where no access rule decides
     * @param admins        users and {@code @groups} allowed administrative operations; empty means every
     *                      authenticated user
     * @param groups        named sets of users, referred to as {@code @name}
     * @param access        the access rules by repository prefix, in config order
     */
    public record Auth(Path htpasswd, Token token, boolean anonymousPull, List<String> admins, List<Group> groups,
                       List<AccessRule> access) {
        public Auth {
            admins = List.copyOf(admins);
            groups = List.copyOf(groups);
            access = List.copyOf(access);
        }

        /** Basic authentication (or none, when {@code htpasswd} is null) without groups or rules. */
        public Auth(Path htpasswd, boolean anonymousPull) {
            this(htpasswd, null, anonymousPull, List.of(), List.of(), List.of());
        }

        /** Whether any authentication is configured. */
        public boolean enabled() {
            return htpasswd != null || token != null;
        }
    }

    /**
     * Token authentication as distribution's {@code auth.token}: clients get a JWT from the token service
     * at {@code realm}, issued by {@code issuer} for {@code service}, signed by a key whose certificate
     * is (or chains to one) in {@code rootCertBundle}.
     */
    public record Token(URI realm, String service, String issuer, Path rootCertBundle) {
    }

    /** A named group of users ({@code @name} in rules and admins). */
    public record Group(String name, List<String> members) {
        public Group {
            members = List.copyOf(members);
        }
    }

    /**
     * Who may pull, push and delete under a repository name prefix: user names, {@code @group}, and in
     * {@code pull} also {@code anonymous}.
     */
    public record AccessRule(String prefix, List<String> pull, List<String> push, List<String> delete) {
        public AccessRule {
            pull = List.copyOf(pull);
            push = List.copyOf(push);
            delete = List.copyOf(delete);
        }
    }

    public record Metrics(String path) {
    }

    /**
     * The logs on standard error.
     *
     * @param level  {@code trace}, {@code debug}, {@code info}, {@code warn} or {@code error}
     * @param format {@code text} (readable lines with key=value fields) or {@code json} (one object per line)
     */
    public record Log(String level, String format) {
        public static final List<String> LEVELS = List.of("trace", "debug", "info", "warn", "error");
        public static final List<String> FORMATS = List.of("text", "json");
        public static final Log DEFAULT = new Log("info", "text");

        public boolean json() {
            return "json".equals(format);
        }
    }
}
