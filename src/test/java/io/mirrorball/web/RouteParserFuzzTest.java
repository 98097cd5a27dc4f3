package io.mirrorball.web;

import static io.mirrorball.testing.FuzzInput.assertClientError;
import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.oci.OciException;

/**
 * The route table on raw request paths. Input: {@code METHOD path} (seeds in
 * RouteParserFuzzTestInputs/parse_anyRequestLine). A route is one of its kind's methods, and its
 * repository name is valid and appears in the path as it was sent.
 */
final class RouteParserFuzzTest {

    @FuzzTest
    void parse_anyRequestLine(byte[] input) {
        String line = text(input);
        int space = line.indexOf(' ');
        String method = space < 0 ? "GET" : line.substring(0, space);
        String path = space < 0 ? line : line.substring(space + 1);
        Route route;
        try {
            route = RouteParser.parse(method, path);
        } catch (OciException e) {
            assertClientError(e);
            return;
        }
        assertTrue(route.kind().methods().contains(method), method);
        assertTrue(path.startsWith("/v2"), path);
        if (route.name() != null) {
            assertTrue(RepositoryName.isValid(route.name().value()));
            assertTrue(path.startsWith("/v2/" + route.name().value() + "/"), path);
        }
        switch (route.kind()) {
            case MANIFEST -> assertNotNull(route.reference());
            case BLOB, REFERRERS -> assertEquals(path.substring(path.lastIndexOf('/') + 1), route.digest().toString());
            case UPLOAD -> assertEquals(path.substring(path.lastIndexOf('/') + 1), route.uploadId());
            default -> { }
        }
    }
}
