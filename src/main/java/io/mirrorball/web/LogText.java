package io.mirrorball.web;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Text from a request, made safe to log: control characters (CR and LF first), DEL, C1 controls, the
 * Unicode line and paragraph separators and the backslash are written as escapes, so that no client
 * can forge a log line or hide one; and it is cut at a length, so that no client can flood the log.
 */
final class LogText {
    /** Longest text logged from one request field. */
    static final int MAX = 1024;

    private LogText() {
    }

    /** The text with every character that could break a line or a terminal escaped; "-" for null. */
    static String escape(Object value) {
        if (value == null) {
            return "-";
        }
        String text = value.toString();
        StringBuilder out = null;
        int end = Math.min(text.length(), MAX);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            String replacement = switch (c) {
                case '\r' -> "\\r";
                case '\n' -> "\\n";
                case '\t' -> "\\t";
                case '\\' -> "\\\\";
                default -> c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                        || c == '\u0085' ? String.format("\\u%04x", (int) c) : null;
            };
            if (replacement != null && out == null) {
                out = new StringBuilder(end + 16).append(text, 0, i);
            }
            if (out != null) {
                if (replacement != null) {
                    out.append(replacement);
                } else {
                    out.append(c);
                }
            }
        }
        String result = out == null ? text.substring(0, end) : out.toString();
        return text.length() > MAX ? result + "...(" + text.length() + " chars)" : result;
    }

    /** The request path and query as the client sent them, escaped. */
    static String path(HttpServletRequest request) {
        String query = request.getQueryString();
        return escape(query == null ? request.getRequestURI() : request.getRequestURI() + "?" + query);
    }
}
