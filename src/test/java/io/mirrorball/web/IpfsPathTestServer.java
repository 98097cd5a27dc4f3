package io.mirrorball.web;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * A gateway on an embedded node, deployed like {@link GatewayServer} (same Jetty settings, the
 * shipped {@code WEB-INF/web.xml}) but from a copy of web.xml that also maps {@link IpfsPathServlet}
 * to {@code /ipfs/*} with exactly {@link #WEB_XML_LINES}, unless the shipped file already maps it.
 * Once the shipped web.xml has those lines, this is GatewayServer with a different base directory.
 */
final class IpfsPathTestServer implements AutoCloseable {
    /** The lines that web.xml needs, before {@code </web-app>}. */
    static final String WEB_XML_LINES = """
              <!-- not part of the registry API: the IPFS trustless gateway (raw blocks and CARs) for other nodes -->
              <servlet>
                <servlet-name>ipfs-path</servlet-name>
                <servlet-class>io.mirrorball.web.IpfsPathServlet</servlet-class>
              </servlet>
              <servlet-mapping><servlet-name>ipfs-path</servlet-name><url-pattern>/ipfs/*</url-pattern></servlet-mapping>
            """;

    private final Server server;
    private final ServerConnector connector;

    private IpfsPathTestServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    /** A gateway with its embedded node in {@code dir}, plus these MIRRORBALL_* settings. */
    static IpfsPathTestServer embedded(Path dir, Map<String, String> extraEnv) throws Exception {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.putIfAbsent("MIRRORBALL_STORAGE_IPFS_NODE", "embedded");
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", dir.resolve("ipfs").toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", dir.resolve("uploads").toString());
        return start(ConfigLoader.load(Optional.empty(), env), dir);
    }

    static IpfsPathTestServer start(MirrorballConfig config, Path dir) throws Exception {
        Path webapp = dir.resolve("webapp");
        Files.createDirectories(webapp.resolve("WEB-INF"));
        String shipped;
        try (InputStream in = IpfsPathTestServer.class.getResourceAsStream("/webapp/WEB-INF/web.xml")) {
            if (in == null) {
                throw new IOException("webapp/WEB-INF/web.xml is missing from the classpath");
            }
            shipped = new String(in.readAllBytes(), StandardCharsets.UTF_8); // a small XML file, not a blob
        }
        String xml = shipped.contains("io.mirrorball.web.IpfsPathServlet") ? shipped
                : shipped.replace("</web-app>", WEB_XML_LINES + "</web-app>");
        Files.writeString(webapp.resolve("WEB-INF/web.xml"), xml);

        Server server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setUriCompliance(UriCompliance.UNSAFE);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.http().host());
        connector.setPort(config.http().port());
        server.addConnector(connector);
        WebAppContext context = new WebAppContext();
        context.setContextPath("/");
        context.setBaseResource(ResourceFactory.of(context).newResource(webapp));
        context.setParentLoaderPriority(true);
        context.setThrowUnavailableOnStartupException(true);
        context.setAttribute(MirrorballConfig.class.getName(), config);
        context.getServletHandler().setDecodeAmbiguousURIs(true);
        server.setHandler(context);
        server.setErrorHandler(new JsonErrorHandler());
        context.setErrorHandler(new JsonErrorHandler());
        server.start();
        return new IpfsPathTestServer(server, connector);
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    RegistryClient client() {
        return new RegistryClient(uri());
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
