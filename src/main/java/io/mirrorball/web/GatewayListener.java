package io.mirrorball.web;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.prometheus.metrics.exporter.servlet.jakarta.PrometheusMetricsServlet;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots the gateway in any servlet container. The configuration is the context attribute
 * {@code MirrorballConfig} when the embedded server set one; otherwise it is loaded from the file
 * named by the context parameter or system property {@code mirrorball.config}, or the environment
 * variable {@code MIRRORBALL_CONFIG}, else conf/mirrorball.yml when present; MIRRORBALL_*
 * environment overrides always apply. The embedded server ({@link GatewayServer}) starts the
 * gateway before Jetty and hands it over as the context attribute {@link Gateway#ATTRIBUTE}; it then
 * also closes it.
 */
public final class GatewayListener implements ServletContextListener {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayListener.class);
    /** The gateway this listener started (in a container), which it closes; null when the embedded server owns it. */
    private Gateway started;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        MirrorballConfig config = (MirrorballConfig) context.getAttribute(MirrorballConfig.class.getName());
        if (config == null) {
            config = ConfigLoader.load(configFile(context), System.getenv());
            // in a container this is where the configuration is first read (the jar applies it in serve)
            io.mirrorball.log.Logging.apply(config.log());
            context.setAttribute(MirrorballConfig.class.getName(), config);
            if (config.http().tls().isPresent()) {
                LOG.warn("http.tls.certificate and http.tls.key are ignored in a servlet container: configure TLS"
                        + " on the container's connector (see docs/tls.md)");
            }
        }
        if (!(context.getAttribute(Gateway.ATTRIBUTE) instanceof Gateway)) {
            // in a container; the embedded server starts the gateway itself, and closes it
            try {
                Object clock = context.getAttribute(java.time.Clock.class.getName());
                started = Gateway.start(config, clock instanceof java.time.Clock c ? c : java.time.Clock.systemUTC());
            } catch (IOException e) {
                throw new UncheckedIOException("mirrorball could not start: " + e.getMessage(), e);
            }
            context.setAttribute(Gateway.ATTRIBUTE, started);
        }
        Gateway gateway = (Gateway) context.getAttribute(Gateway.ATTRIBUTE);
        // the Prometheus text format (OpenMetrics or protobuf when the scraper asks for it), see docs/observability.md
        ServletRegistration.Dynamic metrics = context.addServlet("metrics",
                new PrometheusMetricsServlet(gateway.prometheus()));
        if (metrics != null) {
            metrics.addMapping(config.metrics().path());
        }
        // the read-only web page: / redirects to /ui/ (see WebPageServlet)
        ServletRegistration.Dynamic page = context.addServlet("web-page", io.mirrorball.ui.WebPageServlet.class);
        if (page != null) {
            page.addMapping("", "/ui/*");
        }
        ServletRegistration.Dynamic health = context.addServlet("health", HealthServlet.class);
        if (health != null) {
            health.addMapping(HealthServlet.LIVE, HealthServlet.READY);
        }
    }

    private static Optional<Path> configFile(ServletContext context) {
        String named = context.getInitParameter("mirrorball.config");
        if (named == null) {
            named = System.getProperty("mirrorball.config", System.getenv(ConfigLoader.CONFIG_FILE_ENV));
        }
        if (named != null && !named.isEmpty()) {
            return Optional.of(Path.of(named));
        }
        Path conventional = Path.of("conf", "mirrorball.yml");
        return Files.isRegularFile(conventional) ? Optional.of(conventional) : Optional.empty();
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (started != null) {
            try {
                started.close();
            } catch (IOException e) {
                LOG.warn("closing the gateway: {}", e.toString());
            } finally {
                started = null;
            }
        }
    }
}
