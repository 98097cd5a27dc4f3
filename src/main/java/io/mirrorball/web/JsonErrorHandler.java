package io.mirrorball.web;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Errors that Jetty answers itself, before any filter runs (a path that escapes the root after
 * normalisation, a NUL byte, a header or URI too large, an unknown HTTP version): the OCI error JSON
 * instead of Jetty's HTML page, with the code that says what was wrong with the request. The detail
 * is Jetty's reason for a client error (scrubbed like every detail), and never anything for a server error.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String path = path(request);
        Object message = request.getAttribute(ERROR_MESSAGE);
        String reason = message == null ? "" : message.toString();
        String code = code(status, path, reason);
        String detail = status >= 500 ? "the HTTP layer failed, see the gateway log"
                : reason.isEmpty() ? "request rejected by the HTTP layer" : ErrorsFilter.safeDetail(reason);
        String json = "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + escape(message(status))
                + "\",\"detail\":\"" + escape(detail) + "\"}]}";
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put("Docker-Distribution-API-Version", "registry/2.0");
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    /**
     * The OCI code for a status Jetty chose. A 400 is about the URI (an ambiguous or escaping path, a
     * bad escape: NAME_INVALID under {@code /v2/<name>/}) or else about the request's framing or
     * headers, for which the spec has no code but UNSUPPORTED. Too large: a manifest's body is
     * MANIFEST_INVALID, any other body SIZE_INVALID, a URI NAME_INVALID (the name is what makes it long).
     */
    static String code(int status, String path, String reason) {
        boolean underName = path != null && path.startsWith("/v2/") && path.length() > 4;
        String lower = reason.toLowerCase(java.util.Locale.ROOT);
        return switch (status) {
            case 400 -> underName && (lower.contains("uri") || lower.contains("path") || lower.contains("segment")
                    || lower.contains("separator") || lower.contains("encoding") || lower.contains("ambiguous"))
                    ? "NAME_INVALID" : "UNSUPPORTED";
            case 401 -> "UNAUTHORIZED";
            case 403 -> "DENIED";
            case 404 -> "NOT_FOUND";
            case 413 -> path != null && path.contains("/manifests/") ? "MANIFEST_INVALID" : "SIZE_INVALID";
            // a request line too long to parse has no path; on a registry, what makes it long is the name
            case 414 -> underName || path == null ? "NAME_INVALID" : "UNSUPPORTED";
            case 416 -> "RANGE_INVALID";
            case 429 -> "TOOMANYREQUESTS";
            case 502, 503, 504 -> "UNAVAILABLE";
            default -> status >= 500 && status != 501 && status != 505 ? "UNKNOWN" : "UNSUPPORTED";
        };
    }

    private static String message(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 413 -> "request body too large";
            case 414 -> "request URI too long";
            case 431 -> "request headers too large";
            case 501 -> "not implemented";
            case 505 -> "HTTP version not supported";
            default -> status >= 500 ? "server error" : "request rejected";
        };
    }

    /** The request path, or null when Jetty could not parse the request (it then stands in "/badRequest"). */
    private static String path(Request request) {
        try {
            String path = request.getHttpURI() == null ? null : request.getHttpURI().getPath();
            return "/badRequest".equals(path) || "/badMessage".equals(path) ? null : path;
        } catch (RuntimeException e) {
            return null; // a URI too broken to have a path
        }
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
