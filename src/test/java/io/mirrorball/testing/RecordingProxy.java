package io.mirrorball.testing;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-http reverse proxy on 127.0.0.1 (Jetty) that records every request a client sends (method,
 * the raw path with its query string, User-Agent) and forwards it to {@code target}, streaming the
 * response back: for finding out exactly what a real client (containerd, podman) sends to a mirror,
 * which the gateway's access log does not show (it logs the path without the query). GET and HEAD
 * only; forwards Accept, Authorization, Range and User-Agent, and returns the target's status, headers
 * and body. Like the gateway, it answers a TLS handshake on its plain port with 400 at once (podman
 * tries https first on an insecure mirror; a server that waits for a request line costs it 10 s).
 */
public final class RecordingProxy implements AutoCloseable {
    private static final Set<String> FORWARDED = Set.of("accept", "authorization", "range", "user-agent");
    private static final Set<String> NOT_RETURNED = Set.of("connection", "transfer-encoding", "keep-alive",
            "content-length", "date", "server");
    private static final AtomicInteger CLIENT_THREADS = new AtomicInteger();

    private final URI target;
    private final Server server;
    private final ServerConnector connector;
    private final ExecutorService clientPool;
    private final HttpClient client;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** One request as the client sent it: {@code rawPathAndQuery} is e.g. {@code /v2/app/manifests/1?ns=x}. */
    public record Request(String method, String rawPathAndQuery, String userAgent) {
        /** The raw query string, or "" without one. */
        public String rawQuery() {
            int q = rawPathAndQuery.indexOf('?');
            return q < 0 ? "" : rawPathAndQuery.substring(q + 1);
        }

        /** The path without the query. */
        public String path() {
            int q = rawPathAndQuery.indexOf('?');
            return q < 0 ? rawPathAndQuery : rawPathAndQuery.substring(0, q);
        }
    }

    private RecordingProxy(URI target) {
        this.target = target;
        this.clientPool = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "recording-proxy-client-" + CLIENT_THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).executor(clientPool).build();
        QueuedThreadPool threads = new QueuedThreadPool(50, 4, 60_000);
        threads.setName("recording-proxy");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.addServlet(new ServletHolder(new Forward()), "/");
        server.setHandler(context);
    }

    /** Starts a proxy on a free port of 127.0.0.1 in front of {@code target} ({@code http://host:port}). */
    public static RecordingProxy start(URI target) throws Exception {
        RecordingProxy proxy = new RecordingProxy(target);
        try {
            proxy.server.start();
        } catch (Exception e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String hostPort() {
        return "127.0.0.1:" + connector.getLocalPort();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI uri() {
        return URI.create("http://" + hostPort());
    }

    /** Every request so far, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private final class Forward extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String method = request.getMethod();
            String raw = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
            requests.add(new Request(method, raw, request.getHeader("User-Agent")));
            if (!method.equals("GET") && !method.equals("HEAD")) {
                response.sendError(405);
                return;
            }
            HttpRequest.Builder forward = HttpRequest.newBuilder(target.resolve(raw))
                    .timeout(Duration.ofMinutes(2))
                    .method(method, HttpRequest.BodyPublishers.noBody());
            for (String name : Collections.list(request.getHeaderNames())) {
                if (FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                    forward.header(name, String.join(", ", Collections.list(request.getHeaders(name))));
                }
            }
            HttpResponse<InputStream> answer;
            try {
                answer = client.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                response.sendError(502);
                return;
            } catch (IOException e) {
                response.sendError(502);
                return;
            }
            response.setStatus(answer.statusCode());
            answer.headers().map().forEach((name, values) -> {
                if (!NOT_RETURNED.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                    values.forEach(value -> response.addHeader(name, value));
                }
            });
            answer.headers().firstValueAsLong("Content-Length").ifPresent(response::setContentLengthLong);
            try (InputStream body = answer.body()) {
                if (!method.equals("HEAD")) {
                    try (OutputStream out = response.getOutputStream()) {
                        body.transferTo(out);
                    }
                }
            }
        }
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            clientPool.shutdownNow();
        }
    }
}
