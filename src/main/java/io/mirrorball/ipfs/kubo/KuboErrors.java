package io.mirrorball.ipfs.kubo;

import io.mirrorball.ipfs.IpfsAccessDeniedException;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.NoHttpResponseException;

/**
 * Turns what goes wrong in a Kubo RPC into an {@link IpfsException}: transport failures by kind,
 * and Kubo's error JSON ({@code {"Message":..,"Code":0,"Type":"error"}}) into a message that names
 * the RPC and its arguments ("ipfs files/stat /a/b: file does not exist").
 */
final class KuboErrors {
    private KuboErrors() {
    }

    /** A failure to talk to the node at all. */
    static IpfsException transport(String action, String node, IOException e) {
        if (e instanceof IpfsException ipfs) {
            return ipfs;
        }
        if (e instanceof ConnectionRequestTimeoutException) {
            return new IpfsException(IpfsException.Kind.TIMEOUT,
                    action + ": no free connection to " + node + " in time (pool exhausted)", e);
        }
        if (e instanceof ConnectTimeoutException || e instanceof ConnectException
                || e instanceof NoRouteToHostException || e instanceof UnknownHostException) {
            return new IpfsException(IpfsException.Kind.UNAVAILABLE,
                    action + ": IPFS node " + node + " unreachable: " + e.getMessage(), e);
        }
        if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
            return new IpfsException(IpfsException.Kind.TIMEOUT,
                    action + ": IPFS node " + node + " did not answer in time: " + e.getMessage(), e);
        }
        if (e instanceof NoHttpResponseException || e instanceof ConnectionClosedException) {
            return new IpfsException(IpfsException.Kind.UNAVAILABLE,
                    action + ": IPFS node " + node + " closed the connection: " + e.getMessage(), e);
        }
        return new IpfsException(IpfsException.Kind.FAILED, action + ": " + e, e);
    }

    /**
     * An error answer. Kubo's error JSON with a "not found" message becomes an
     * {@link IpfsNotFoundException}; a timeout reported by the node becomes kind TIMEOUT.
     */
    static IpfsException response(String action, int status, String body, ObjectMapper json) {
        String message = kuboMessage(body, json);
        if (message == null) {
            String text = body.strip();
            if (text.length() > 300) {
                text = text.substring(0, 300) + "...";
            }
            // not Kubo speaking: a proxy in front of it, or another server on the port
            IpfsException.Kind kind = switch (status) {
                case 502, 503 -> IpfsException.Kind.UNAVAILABLE;
                case 504 -> IpfsException.Kind.TIMEOUT;
                default -> IpfsException.Kind.FAILED;
            };
            String full = action + ": HTTP " + status + (text.isEmpty() ? "" : " " + text);
            if (status == 401 || status == 403) {
                // Kubo's API.Authorizations: "Kubo RPC Access Denied" (the body never echoes the credentials)
                return new IpfsAccessDeniedException(full);
            }
            return new IpfsException(kind, full);
        }
        return fromMessage(action, message);
    }

    /** An error message from the node (error JSON, a stream trailer or an error line). */
    static IpfsException fromMessage(String action, String message) {
        String full = action + ": " + message;
        if (isNotFound(message)) {
            return new IpfsNotFoundException(full);
        }
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("timed out") || lower.contains("deadline exceeded")) {
            return new IpfsException(IpfsException.Kind.TIMEOUT, full);
        }
        return new IpfsException(IpfsException.Kind.FAILED, full);
    }

    /** Kubo's and js-ipfs's wordings for a missing MFS path, link, block or CID. */
    static boolean isNotFound(String message) {
        String lower = message.toLowerCase(Locale.ROOT);
        return lower.contains("does not exist") || lower.contains("not found") || lower.contains("no link named")
                || lower.contains("could not find") || lower.contains("no such file");
    }

    /** The Message of Kubo's error JSON, or null when the body is not one. */
    static String kuboMessage(String body, ObjectMapper json) {
        try {
            JsonNode node = json.readTree(body);
            if (node != null && node.isObject() && node.path("Message").isTextual()
                    && (node.path("Type").asText("error").equals("error"))) {
                return node.path("Message").asText();
            }
        } catch (IOException notJson) {
            return null;
        }
        return null;
    }
}
