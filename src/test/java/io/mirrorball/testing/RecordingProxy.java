package io.mirrorball.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-http reverse proxy on 127.0.0.1 that records every request a client sends (method, the raw
 * path with its query string, User-Agent) and forwards it to {@code target}, streaming the response
 * back: for finding out exactly what a real client (containerd, podman) sends to a mirror, which the
 * gateway's access log does not show (it logs the path without the query). GET and HEAD only; forwards
 * Accept, Authorization, Range and User-Agent, and returns the target's status, headers and body.
 */
public final class RecordingProxy implements AutoCloseable {
    private static final Set<String> FORWARDED = Set.of("accept", "authorization", "range", "user-agent");
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "transfer-encoding", "keep-alive",
            "content-length", "date");
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final URI target;
    private final HttpServer server;
    private final ExecutorService pool;
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

    private RecordingProxy(URI target, HttpServer server, ExecutorService pool) {
        this.target = target;
        this.server = server;
        this.pool = pool;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).executor(pool).build();
    }

    /** Starts a proxy on a free port of 127.0.0.1 in front of {@code target} ({@code http://host:port}). */
    public static RecordingProxy start(URI target) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "recording-proxy-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        RecordingProxy proxy = new RecordingProxy(target, server, pool);
        server.createContext("/", proxy::handle);
        server.setExecutor(pool);
        server.start();
        return proxy;
    }

    /** {@code 127.0.0.1:<port>}. */
    public String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI uri() {
        return URI.create("http://" + hostPort());
    }

    /** Every request so far, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String raw = exchange.getRequestURI().getRawPath()
                    + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
            requests.add(new Request(method, raw, exchange.getRequestHeaders().getFirst("User-Agent")));
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            HttpRequest.Builder forward = HttpRequest.newBuilder(target.resolve(raw))
                    .timeout(Duration.ofMinutes(2))
                    .method(method, HttpRequest.BodyPublishers.noBody());
            for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
                if (FORWARDED.contains(header.getKey().toLowerCase(java.util.Locale.ROOT))) {
                    forward.header(header.getKey(), String.join(", ", header.getValue()));
                }
            }
            HttpResponse<InputStream> response;
            try {
                response = client.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.sendResponseHeaders(502, -1);
                return;
            } catch (IOException e) {
                exchange.sendResponseHeaders(502, -1);
                return;
            }
            response.headers().map().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT)) && !name.startsWith(":")) {
                    exchange.getResponseHeaders().put(name, values);
                }
            });
            long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            try (InputStream body = response.body()) {
                if (method.equals("HEAD") || response.statusCode() == 204 || response.statusCode() == 304) {
                    if (length >= 0) {
                        exchange.getResponseHeaders().set("Content-Length", Long.toString(length));
                    }
                    exchange.sendResponseHeaders(response.statusCode(), -1);
                    return;
                }
                exchange.sendResponseHeaders(response.statusCode(), length > 0 ? length : length == 0 ? -1 : 0);
                try (OutputStream out = exchange.getResponseBody()) {
                    body.transferTo(out);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
