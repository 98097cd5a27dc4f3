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
 * normalisation, a NUL byte, a header too large): the OCI error JSON instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String code = switch (status) {
            case 400 -> "NAME_INVALID";
            case 401 -> "UNAUTHORIZED";
            case 403 -> "DENIED";
            case 404 -> "NOT_FOUND";
            case 405 -> "UNSUPPORTED";
            case 413, 431 -> "SIZE_INVALID";
            case 429 -> "TOOMANYREQUESTS";
            default -> status >= 500 ? "UNAVAILABLE" : "UNSUPPORTED";
        };
        Object message = request.getAttribute(ERROR_MESSAGE);
        String detail = message == null ? "request rejected by the HTTP layer" : message.toString();
        String json = "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + escape(status + " " + reason(status))
                + "\",\"detail\":\"" + escape(detail) + "\"}]}";
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put("Docker-Distribution-API-Version", "registry/2.0");
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    private static String reason(int status) {
        return status >= 500 ? "server error" : "bad request";
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
