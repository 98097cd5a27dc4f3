package io.mirrorball.web;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Query parameters, read from the query string only. {@code getParameter} is never used: for a
 * body with a form Content-Type (curl's {@code --data-binary} default) the container would parse
 * the body as parameters, consuming a blob and letting its bytes pose as {@code ?digest=},
 * {@code ?mount=} or {@code ?from=}. The same code runs in Jetty and Tomcat.
 */
final class QueryParameters {
    private QueryParameters() {
    }

    /** The first value of {@code name} in the request's query string, percent- and plus-decoded (UTF-8). */
    static String get(HttpServletRequest request, String name) {
        return first(request.getQueryString(), name).orElse(null);
    }

    /** The first value of {@code name} in a raw query string; a parameter without '=' has the value "". */
    static Optional<String> first(String query, String name) {
        if (query == null || query.isEmpty()) {
            return Optional.empty();
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (key != null && key.equals(name)) {
                return Optional.ofNullable(decode(eq < 0 ? "" : pair.substring(eq + 1)));
            }
        }
        return Optional.empty();
    }

    /** Decodes {@code %XX} and {@code +}; a malformed escape or invalid UTF-8 gives null (the parameter is ignored). */
    private static String decode(String raw) {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw;
        }
        byte[] out = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '+') {
                out[n++] = ' ';
            } else if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return null;
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c < 0x80) {
                out[n++] = (byte) c;
            } else {
                return null; // a raw query string is ASCII
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(out, 0, n)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }
}
