package io.mirrorball.web;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A bound on the connections that one client IP address holds open on the embedded server. Jetty's
 * own {@code ConnectionLimit} is global, so one busy client could still take all of it. Every
 * connection is counted as it opens (this is a {@link Connection.Listener} on the connector); one
 * that opens beyond the bound is marked, and its request is answered 429 TOOMANYREQUESTS with
 * Retry-After and {@code Connection: close}, at once, without reading its body. A marked
 * connection that never sends a request holds no thread and is closed by the idle timeout.
 */
final class ConnectionsPerClient extends Handler.Wrapper implements Connection.Listener {
    /** Seconds a refused client is asked to wait. */
    private static final String RETRY_AFTER = "5";

    private final int limit;
    private final Map<InetAddress, Integer> open = new ConcurrentHashMap<>();
    /** The address of every open connection, as counted: a closed channel no longer knows it. */
    private final Map<Connection, InetAddress> counted = new ConcurrentHashMap<>();
    private final Set<EndPoint> refused = ConcurrentHashMap.newKeySet();

    /** @param limit connections one address may hold; at least 1 */
    ConnectionsPerClient(Handler handler, int limit) {
        super(handler);
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, not " + limit);
        }
        this.limit = limit;
    }

    /**
     * Counts the connection on the network: over TLS that is the TLS connection, not the ALPN and
     * HTTP connections on top of it (their end point is the TLS one, a wrapper), so one TCP
     * connection counts once whatever the protocol.
     */
    @Override
    public void onOpened(Connection connection) {
        if (connection.getEndPoint() instanceof EndPoint.Wrapper) {
            return;
        }
        SocketAddress remote = connection.getEndPoint().getRemoteSocketAddress();
        if (!(remote instanceof InetSocketAddress inet)) {
            return;
        }
        counted.put(connection, inet.getAddress());
        if (open.merge(inet.getAddress(), 1, Integer::sum) > limit) {
            refused.add(connection.getEndPoint());
        }
    }

    @Override
    public void onClosed(Connection connection) {
        InetAddress address = counted.remove(connection);
        if (address != null) {
            open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
            refused.remove(connection.getEndPoint());
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Connection connection = request.getConnectionMetaData().getConnection();
        if (!refused.contains(network(connection.getEndPoint()))) {
            return super.handle(request, response, callback);
        }
        response.getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER);
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        Callback then = callback;
        if (request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_2) {
            // HTTP/2 has no Connection: close; the refused connection is ended with a GOAWAY once answered
            then = Callback.from(callback, connection::close);
        }
        Response.writeError(request, response, then, 429,
                "more than " + limit + " connections from one address; close some, or retry later");
        return true;
    }

    /** The end point on the network under any TLS. */
    private static EndPoint network(EndPoint endPoint) {
        EndPoint network = endPoint;
        while (network instanceof EndPoint.Wrapper wrapper) {
            network = wrapper.unwrap();
        }
        return network;
    }
}
