package io.mirrorball.web;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First in the chain: gives every request an id ({@code X-Request-Id}, kept when the client sends
 * a sane one), writes one access log line (every field from the request escaped, see {@link LogText}), and records one timer per route kind and status class
 * ({@code http.manifest.2xx}).
 */
public final class RequestLogFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger ACCESS = LoggerFactory.getLogger("mirrorball.access");
    /** Request attribute naming where the answer came from: {@code ipfs}, {@code upstream} or {@code cache}. */
    public static final String SOURCE_ATTRIBUTE = "mirrorball.source";
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private transient MetricRegistry metrics;

    @Override
    public void init() {
        metrics = Gateway.from(getServletContext()).metrics();
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String id = request.getHeader("X-Request-Id");
        if (id == null || !SANE_ID.matcher(id).matches()) {
            id = UUID.randomUUID().toString();
        }
        response.setHeader("X-Request-Id", id);
        long start = System.nanoTime();
        boolean aborted = true;
        try {
            chain.doFilter(request, response);
            aborted = false;
        } finally {
            long nanos = System.nanoTime() - start;
            Object route = request.getAttribute(Route.ATTRIBUTE);
            String kind = route instanceof Route r ? r.kind().metricName() : RouteKind.OTHER.metricName();
            int status = aborted ? 0 : response.getStatus();
            String statusClass = aborted ? "aborted" : (status / 100) + "xx";
            Timer timer = metrics.timer(MetricRegistry.name("http", kind, statusClass));
            timer.update(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            if (ACCESS.isInfoEnabled()) {
                // everything that comes from the request is escaped: no client can forge or split a line
                ACCESS.info("{} {} {} {} {}ms id={} user={} agent=\"{}\"", LogText.escape(request.getRemoteAddr()),
                        LogText.escape(request.getMethod()), LogText.escape(request.getRequestURI()),
                        aborted ? "aborted" : status, nanos / 1_000_000, id,
                        LogText.escape(request.getAttribute(AuthFilter.USER_ATTRIBUTE)),
                        LogText.escape(request.getHeader("User-Agent")).replace("\"", "\\x22"));
            }
        }
    }
}
