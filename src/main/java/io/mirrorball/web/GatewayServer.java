package io.mirrorball.web;

import io.mirrorball.config.MirrorballConfig;
import java.net.URI;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.Resource;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The gateway on embedded Jetty 12. It deploys the same {@code WEB-INF/web.xml} as the WAR (read
 * from the jar), so the filter chain is declared in exactly one place.
 */
public final class GatewayServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;

    private GatewayServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    public static GatewayServer start(MirrorballConfig config) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(256, 8, 60_000);
        threads.setName("mirrorball-http");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(16 * 1024);
        http.setOutputBufferSize(64 * 1024);
        // the routing filter validates every path itself, and answers NAME_INVALID in OCI JSON
        http.setUriCompliance(UriCompliance.UNSAFE);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.http().host());
        connector.setPort(config.http().port());
        connector.setIdleTimeout(300_000);
        server.addConnector(connector);

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
        webapp.getServletHandler().setDecodeAmbiguousURIs(true);
        webapp.setInitParameter("org.eclipse.jetty.servlet.Default.dirAllowed", "false");
        server.setHandler(webapp);
        server.setErrorHandler(new JsonErrorHandler());
        webapp.setErrorHandler(new JsonErrorHandler());
        server.setStopAtShutdown(true);
        server.start();
        return new GatewayServer(server, connector);
    }

    /** The base URI, e.g. {@code http://127.0.0.1:5000}; a wildcard host is reported as 127.0.0.1. */
    public URI uri() {
        String host = connector.getHost();
        if (host == null || host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
            host = "127.0.0.1";
        }
        return URI.create("http://" + host + ":" + connector.getLocalPort());
    }

    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
