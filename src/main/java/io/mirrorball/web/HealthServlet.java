package io.mirrorball.web;

import io.mirrorball.upstream.UpstreamRegistry;
import io.mirrorball.upstream.UpstreamStats;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /livez} and {@code /readyz}, for load balancers and Kubernetes probes; they never need
 * credentials.
 *
 * <ul>
 *   <li>{@code /livez}: the process serves requests. Always 200 {@code {"status":"ok"}}, no I/O.</li>
 *   <li>{@code /readyz}: 200 when the IPFS node answers within {@link NodeProbe#TIMEOUT}, else 503. The
 *       body lists the checks: the node, and each upstream's last contact as the gateway saw it on the
 *       way (ok, failing, rate-limited, unknown); upstreams are never contacted for it, and one that
 *       is down does not make the gateway unready (it still serves what IPFS holds).</li>
 * </ul>
 */
public final class HealthServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String LIVE = "/livez";
    static final String READY = "/readyz";

    private transient Gateway gateway;

    @Override
    public void init() {
        gateway = Gateway.from(getServletContext());
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        answer(request, response, false);
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        answer(request, response, true);
    }

    private void answer(HttpServletRequest request, HttpServletResponse response, boolean head) throws IOException {
        response.setHeader("Cache-Control", "no-store");
        if (LIVE.equals(request.getServletPath())) {
            Json.write(response, 200, "application/json", Map.of("status", "ok"), head);
            return;
        }
        NodeProbe.Result node = gateway.nodeProbe().probe();
        Map<String, Object> ipfs = new LinkedHashMap<>();
        ipfs.put("status", node.ok() ? "ok" : "failing");
        if (!node.ok()) {
            ipfs.put("detail", node.detail());
        }
        List<Map<String, Object>> upstreams = new ArrayList<>();
        for (UpstreamRegistry upstream : gateway.upstreams().registries()) {
            upstreams.add(upstream(upstream));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", node.ok() ? "ok" : "unavailable");
        body.put("ipfs", ipfs);
        body.put("upstreams", upstreams);
        Json.write(response, node.ok() ? 200 : 503, "application/json", body, head);
    }

    private static Map<String, Object> upstream(UpstreamRegistry upstream) {
        Map<String, Object> check = new LinkedHashMap<>();
        check.put("name", upstream.name());
        UpstreamStats stats = upstream.stats();
        check.put("status", stats.state().word());
        stats.lastContact().ifPresent(c -> check.put("lastContact", c.at().toString()));
        upstream.rateLimit().ifPresent(limit -> {
            check.put("rateLimitLimit", limit.limit());
            check.put("rateLimitRemaining", limit.remaining());
        });
        return check;
    }
}
