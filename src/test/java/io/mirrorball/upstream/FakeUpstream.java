package io.mirrorball.upstream;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny HTTP/1.1 server on raw sockets, ONLY for faults a real registry cannot produce: stalls,
 * connection resets mid-body, 429 with Retry-After, wrong bytes for a digest. Each path gets a
 * {@link Handler} that writes the raw response (or does not). Requests are counted per path.
 */
public final class FakeUpstream implements AutoCloseable {
    /** Writes a raw response to the socket. */
    public interface Handler {
        void handle(String method, Socket socket, OutputStream out) throws IOException, InterruptedException;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-upstream");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> lastHeaders = new ConcurrentHashMap<>();

    private FakeUpstream() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        handlers.put("/v2/", (method, socket, out) -> respond(out, 200, Map.of("Content-Type", "application/json"),
                "{}".getBytes(StandardCharsets.UTF_8)));
        threads.execute(this::acceptLoop);
    }

    public static FakeUpstream start() throws IOException {
        return new FakeUpstream();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public FakeUpstream on(String path, Handler handler) {
        handlers.put(path, handler);
        return this;
    }

    public int count(String path) {
        AtomicInteger count = counts.get(path);
        return count == null ? 0 : count.get();
    }

    /** The headers of the last request for a path (names lower-cased); empty when none came. */
    public Map<String, String> lastHeaders(String path) {
        return lastHeaders.getOrDefault(path, Map.of());
    }

    /** Writes a whole response with Content-Length. */
    public static void respond(OutputStream out, int status, Map<String, String> headers, byte[] body)
            throws IOException {
        writeHead(out, status, headers, body.length);
        out.write(body);
        out.flush();
    }

    public static void writeHead(OutputStream out, int status, Map<String, String> headers, long length)
            throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.put("Content-Length", Long.toString(length));
        all.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Closes the connection with a TCP reset. */
    public static void reset(Socket socket) throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.ISO_8859_1));
            OutputStream out = socket.getOutputStream();
            while (true) {
                String requestLine = in.readLine();
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                String line;
                Map<String, String> headers = new LinkedHashMap<>();
                while ((line = in.readLine()) != null && !line.isEmpty()) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        headers.put(line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
                                line.substring(colon + 1).trim());
                    }
                }
                String[] parts = requestLine.split(" ");
                String path = URI.create(parts[1]).getPath();
                lastHeaders.put(path, headers);
                counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                Handler handler = handlers.get(path);
                if (handler == null) {
                    respond(out, 404, Map.of("Content-Type", "application/json"),
                            "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"fake\",\"detail\":null}]}"
                                    .getBytes(StandardCharsets.UTF_8));
                    continue;
                }
                handler.handle(parts[0], socket, out);
                if (socket.isClosed()) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the fault under test, or the client went away
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
