package io.mirrorball.web;

import static net.logstash.logback.argument.StructuredArguments.keyValue;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * First in the chain: gives every request an id ({@code X-Request-Id}, kept when the client sends
 * a sane one; in the logging context as {@code request_id} while the request is handled), counts the
 * body bytes in and out as they stream ({@link ByteCounting}; meters {@code http.bytes.in} and
 * {@code http.bytes.out}), records one timer per route kind and status class
 * ({@code http.manifest.2xx}), and writes one access line to the logger {@code mirrorball.access}:
 *
 * <pre>
 * 127.0.0.1 "GET /v2/app/blobs/sha256:.." status=200 bytes_in=0 bytes_out=1234 duration_ms=12 user=alice
 *     source=ipfs request_id=.. agent="skopeo/1.9.3"
 * </pre>
 *
 * (one line; in the JSON format each key=value is a field). {@code login_failed=true} follows the user when
 * the credentials were refused: the user is then the name that was tried. Every field from the
 * request is escaped (see {@link LogText}), so that no client can forge or split a line.
 */
public final class RequestLogFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger ACCESS = LoggerFactory.getLogger("mirrorball.access");
    /** Request attribute naming where the answer came from: {@code ipfs}, {@code upstream} or {@code cache}. */
    public static final String SOURCE_ATTRIBUTE = "mirrorball.source";
    /** The logging context key of the request id, on every line written while the request is handled. */
    public static final String REQUEST_ID_MDC = "request_id";
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
        ByteCounting.Request countedRequest = new ByteCounting.Request(request);
        ByteCounting.Response countedResponse = new ByteCounting.Response(response);
        long start = System.nanoTime();
        boolean aborted = true;
        MDC.put(REQUEST_ID_MDC, id);
        try {
            chain.doFilter(countedRequest, countedResponse);
            aborted = false;
        } finally {
            MDC.remove(REQUEST_ID_MDC);
            long nanos = System.nanoTime() - start;
            Object route = request.getAttribute(Route.ATTRIBUTE);
            String kind = route instanceof Route r ? r.kind().metricName() : RouteKind.OTHER.metricName();
            int status = aborted ? 0 : response.getStatus();
            String statusClass = aborted ? "aborted" : (status / 100) + "xx";
            Timer timer = metrics.timer(MetricRegistry.name("http", kind, statusClass));
            timer.update(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            long bytesIn = countedRequest.bytes();
            long bytesOut = countedResponse.bytes();
            metrics.meter("http.bytes.in").mark(bytesIn);
            metrics.meter("http.bytes.out").mark(bytesOut);
            if (ACCESS.isInfoEnabled()) {
                access(request, aborted ? "aborted" : status, bytesIn, bytesOut, nanos, id);
            }
        }
    }

    /** The access line; everything that comes from the request is escaped. */
    private static void access(HttpServletRequest request, Object status, long bytesIn, long bytesOut, long nanos,
                               String id) {
        Object user = request.getAttribute(AuthFilter.USER_ATTRIBUTE);
        boolean loginFailed = Boolean.TRUE.equals(request.getAttribute(AuthFilter.LOGIN_FAILED_ATTRIBUTE));
        Object source = request.getAttribute(SOURCE_ATTRIBUTE);
        String agent = LogText.escape(request.getHeader("User-Agent")).replace("\"", "\\x22");
        List<Object> fields = new ArrayList<>(12);
        fields.add(keyValue("remote", LogText.escape(request.getRemoteAddr()), "{1}"));
        fields.add(keyValue("method", LogText.escape(request.getMethod()), "\"{1}"));
        fields.add(keyValue("path", LogText.path(request).replace("\"", "\\x22"), "{1}\""));
        fields.add(keyValue("status", status));
        fields.add(keyValue("bytes_in", bytesIn));
        fields.add(keyValue("bytes_out", bytesOut));
        fields.add(keyValue("duration_ms", nanos / 1_000_000));
        fields.add(keyValue("user", LogText.escape(user)));
        StringBuilder format = new StringBuilder("{} {} {} {} {} {} {} {}");
        if (loginFailed) {
            fields.add(keyValue("login_failed", true));
            format.append(" {}");
        }
        fields.add(keyValue("source", source == null ? "-" : source.toString()));
        fields.add(keyValue("request_id", id));
        fields.add(keyValue("agent", agent, "{0}=\"{1}\""));
        format.append(" {} {} {}");
        ACCESS.info(format.toString(), fields.toArray());
    }
}
