package io.mirrorball.web;

import io.mirrorball.config.ConfigException;
import io.mirrorball.config.MirrorballConfig;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.resource.Resource;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The gateway on embedded Jetty 12. It deploys the same {@code WEB-INF/web.xml} as the WAR (read
 * from the jar), so the filter chain is declared in exactly one place.
 *
 * <p>Slow or greedy clients must not take every request thread ({@code http.*} limits): the idle
 * timeout closes connections that move nothing, {@link ClientDataRate} closes those that move too
 * little while a request waits on them, and {@link ConnectionsPerClient} bounds the connections of
 * one address. In a WAR container the container's own connector settings do this job.
 *
 * <p>With {@code http.tls} the one connector speaks HTTPS only, HTTP/2 or HTTP/1.1 as ALPN settles
 * (the limits hold for both), and {@link CertificateReloader} swaps in a renewed certificate
 * without closing the listener. In a WAR container TLS is the container's job too.
 */
public final class GatewayServer implements AutoCloseable {
    /** How often the {@code http.tls} files are checked for a renewed certificate. */
    static final Duration CERTIFICATE_CHECK_INTERVAL = Duration.ofSeconds(5);
    /** Requests one HTTP/2 connection may have in flight; each may hold a request thread. */
    private static final int MAX_CONCURRENT_STREAMS = 128;

    private final Server server;
    private final ServerConnector connector;
    private final WebAppContext webapp;
    private final CertificateReloader certificates;
    private final Gateway gateway;

    private GatewayServer(Server server, ServerConnector connector, WebAppContext webapp,
                          CertificateReloader certificates, Gateway gateway) {
        this.server = server;
        this.connector = connector;
        this.webapp = webapp;
        this.certificates = certificates;
        this.gateway = gateway;
    }

    public static GatewayServer start(MirrorballConfig config) throws Exception {
        return start(config, java.time.Clock.systemUTC());
    }

    /** As {@link #start(MirrorballConfig)}, with the gateway's clock (uploads' expiry, the cache's last use). */
    static GatewayServer start(MirrorballConfig config, java.time.Clock clock) throws Exception {
        MirrorballConfig.Http limits = config.http();
        QueuedThreadPool threads = new QueuedThreadPool(limits.maxThreads(), 8, 60_000);
        threads.setName("mirrorball-http");
        Scheduler scheduler = new ScheduledExecutorScheduler("mirrorball-http-timers", true);
        Server server = new Server(threads, scheduler, null);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(16 * 1024);
        http.setOutputBufferSize(64 * 1024);
        // the routing filter validates every path itself, and answers NAME_INVALID in OCI JSON
        http.setUriCompliance(UriCompliance.UNSAFE);
        CertificateReloader certificates = null;
        ServerConnector connector;
        if (limits.tls().isPresent()) {
            SslContextFactory.Server tls = tlsContext();
            certificates = loadCertificates(tls, limits.tls().get(), scheduler);
            server.addBean(certificates);
            connector = tlsConnector(server, http, tls, limits);
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        connector.setHost(config.http().host());
        connector.setPort(config.http().port());
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        server.addConnector(connector);
        // bound first, and the gateway (its node and store) opened before Jetty starts: a port in use or a
        // store in use fails at once, as itself, before Jetty logs anything about it
        connector.open();
        Gateway gateway;
        try {
            gateway = Gateway.start(config, clock);
        } catch (IOException | RuntimeException e) {
            connector.close();
            throw e;
        }
        try {
            return start(config, clock, server, scheduler, connector, certificates, gateway);
        } catch (Exception e) {
            try {
                gateway.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Deploys the webapp on the bound connector, with the started gateway, and starts Jetty. */
    private static GatewayServer start(MirrorballConfig config, java.time.Clock clock, Server server,
                                       Scheduler scheduler, ServerConnector connector,
                                       CertificateReloader certificates, Gateway gateway)
            throws Exception {
        MirrorballConfig.Http limits = config.http();

        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath("/");
        Resource base = ResourceFactory.of(webapp).newClassLoaderResource("webapp/");
        if (base == null) {
            throw new IllegalStateException("webapp/ is missing from the classpath");
        }
        webapp.setBaseResource(base);
        webapp.setParentLoaderPriority(true);
        webapp.setThrowUnavailableOnStartupException(true);
        webapp.setAttribute(MirrorballConfig.class.getName(), config);
        webapp.setAttribute(java.time.Clock.class.getName(), clock);
        webapp.setAttribute(Gateway.ATTRIBUTE, gateway);
        webapp.getServletHandler().setDecodeAmbiguousURIs(true);
        webapp.setInitParameter("org.eclipse.jetty.servlet.Default.dirAllowed", "false");
        Handler handler = webapp;
        if (limits.minDataRate() > 0) {
            handler = new ClientDataRate(handler, limits.minDataRate(), limits.minDataRateWindow(), scheduler);
        }
        if (limits.maxConnectionsPerClient() > 0) {
            ConnectionsPerClient perClient = new ConnectionsPerClient(handler, limits.maxConnectionsPerClient());
            connector.addBean(perClient);
            handler = perClient;
        }
        server.setHandler(handler);
        server.setErrorHandler(new JsonErrorHandler());
        webapp.setErrorHandler(new JsonErrorHandler());
        server.setStopAtShutdown(true);
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new GatewayServer(server, connector, webapp, certificates, gateway);
    }

    /** TLS 1.2 and 1.3 with Jetty's cipher exclusions (no RSA key exchange, CBC-SHA1, NULL, anon), h2-safe first. */
    private static SslContextFactory.Server tlsContext() {
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        tls.setCipherComparator(HTTP2Cipher.COMPARATOR);
        // clients that skip verification may reach the gateway under any name; verification is theirs
        tls.setSniRequired(false);
        return tls;
    }

    private static CertificateReloader loadCertificates(SslContextFactory.Server tls, MirrorballConfig.Tls files,
                                                        Scheduler scheduler) {
        try {
            return CertificateReloader.load(tls, files, scheduler, CERTIFICATE_CHECK_INTERVAL);
        } catch (PemCredentials.InvalidPemException e) {
            throw new ConfigException(e.key(), e.getMessage(), e);
        }
    }

    /**
     * HTTPS: TLS, then ALPN offering h2 and http/1.1 (a client without ALPN gets HTTP/1.1). The
     * request customizer marks requests secure; the Host is not checked against the certificate.
     */
    private static ServerConnector tlsConnector(Server server, HttpConfiguration http, SslContextFactory.Server tls,
                                                MirrorballConfig.Http limits) {
        HttpConfiguration https = new HttpConfiguration(http);
        https.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
        HttpConnectionFactory http11 = new HttpConnectionFactory(https);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(https);
        h2.setStreamIdleTimeout(limits.idleTimeout().toMillis());
        h2.setMaxConcurrentStreams(MAX_CONCURRENT_STREAMS);
        // offers the protocols of the factories after it on the connector, in order: h2, then http/1.1
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslConnectionFactory ssl = new SslConnectionFactory(tls, alpn.getProtocol());
        return new ServerConnector(server, ssl, alpn, h2, http11);
    }

    /**
     * The base URI to connect to, e.g. {@code http://127.0.0.1:5000} ({@code https} with {@code http.tls}); a wildcard host is given as
     * 127.0.0.1 (see {@link #listening()} for where it listens).
     */
    public URI uri() {
        String host = connector.getHost();
        if (isWildcard(host)) {
            host = "127.0.0.1";
        }
        String scheme = certificates == null ? "http" : "https";
        return URI.create(scheme + "://" + host + ":" + connector.getLocalPort());
    }

    /** The TLS certificate files' watcher, when {@code http.tls} is set (for tests in this package). */
    Optional<CertificateReloader> certificates() {
        return Optional.ofNullable(certificates);
    }

    /**
     * Where it really listens: {@code http://0.0.0.0:5000} for a wildcard host (see {@link #isWildcard}),
     * with the port picked when the configured one was 0.
     */
    public String listening() {
        String host = connector.getHost();
        if (host == null || host.isEmpty()) {
            host = "0.0.0.0";
        }
        String shown = host.contains(":") ? "[" + host + "]" : host;
        return (certificates == null ? "http" : "https") + "://" + shown + ":" + connector.getLocalPort();
    }

    /** Whether it listens on every interface. */
    public boolean listensEverywhere() {
        return isWildcard(connector.getHost());
    }

    /** True for a host that means every interface: empty, {@code 0.0.0.0} or {@code ::}. */
    public static boolean isWildcard(String host) {
        return host == null || host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")
                || host.equals("[::]");
    }

    /** The running gateway (for tests in this package). */
    Gateway gateway() {
        return gateway;
    }

    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            gateway.close();
        }
    }
}
