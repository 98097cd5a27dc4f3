package io.mirrorball.testing;

import io.mirrorball.oci.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Parsing docker-registry's combined access log lines; other log lines are ignored. */
final class AccessLogTest {
    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);

    @TempDir
    Path tmp;

    @Test
    void bytesServed_mixedLog_sumsSizeFieldPerMethodAndPrefix() throws Exception {
        AccessLog log = new AccessLog(write());
        assertEquals(1500, log.bytesServed("GET", "/v2/app/blobs/"));
        assertEquals(1000, log.bytesServed("GET", "/v2/app/blobs/" + A + " "));
        assertEquals(0, log.bytesServed("GET", "/v2/other/"));
        assertEquals(157, log.bytesServed("HEAD", "/v2/app/blobs/"));
    }

    @Test
    void count_prefixEndingInSpace_matchesWholePathOnly() throws Exception {
        AccessLog log = new AccessLog(write());
        assertEquals(2, log.count("GET", "/v2/app/blobs/" + A));
        assertEquals(1, log.count("GET", "/v2/app/blobs/" + A + " "));
        assertEquals(1, log.count("GET", "/v2/app/manifests/"));
    }

    @Test
    void blobBytesServed_mixedLog_sumsGetsPerDigestAcrossRepositories() throws Exception {
        AccessLog log = new AccessLog(write());
        assertEquals(Map.of(Digest.parse(A), 1000L, Digest.parse(B), 700L), log.blobBytesServed());
    }

    private Path write() throws Exception {
        Path file = tmp.resolve("registry.log");
        Files.writeString(file, String.join("\n",
                "time=\"2026-12-03T16:01:36Z\" level=info msg=\"response completed\" http.request.method=GET "
                        + "http.request.uri=\"/v2/app/blobs/" + A + "\" http.response.written=999",
                line("GET", "/v2/app/blobs/" + A, 200, "1000"),
                line("GET", "/v2/app/blobs/" + B, 206, "500"),
                line("GET", "/v2/app/blobs/" + A + "?x=1", 200, "-"),
                line("GET", "/v2/org/tools/blobs/" + B, 200, "200"),
                line("HEAD", "/v2/app/blobs/" + A, 404, "157"),
                line("GET", "/v2/app/manifests/v1", 200, "428"),
                "") + "\n");
        return file;
    }

    private static String line(String method, String path, int status, String size) {
        return "127.0.0.1 - - [03/Dec/2026:16:01:37 +0000] \"" + method + " " + path + " HTTP/1.1\" " + status + " "
                + size + " \"\" \"skopeo/1.9.3\"";
    }
}
