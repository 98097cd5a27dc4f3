package io.mirrorball.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Small JSON bodies (errors, tag lists, the catalog, referrers). Never used on a blob. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    static void write(HttpServletResponse response, int status, String contentType, Object body, boolean head)
            throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(body);
        response.setStatus(status);
        response.setContentType(contentType);
        response.setContentLength(bytes.length);
        if (!head) {
            response.getOutputStream().write(bytes);
        }
    }
}
