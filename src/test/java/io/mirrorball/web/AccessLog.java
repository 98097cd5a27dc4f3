package io.mirrorball.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Counts requests in docker-registry's access log (combined format, written into the process log by
 * the DockerRegistry fixture): lines such as {@code "GET /v2/app/blobs/sha256:.. HTTP/1.1" 200 ...}.
 */
final class AccessLog {
    private final Path log;

    AccessLog(Path log) {
        this.log = log;
    }

    /** Requests with this method whose path starts with {@code pathPrefix} (e.g. {@code /v2/app/manifests/}). */
    long count(String method, String pathPrefix) {
        String needle = "\"" + method + " " + pathPrefix;
        return lines().stream().filter(line -> line.contains(needle)).count();
    }

    /** As {@link #count}, after waiting up to 2 s for the count to stop changing (the log is written async). */
    long settledCount(String method, String pathPrefix) throws InterruptedException {
        long last = -1;
        for (int i = 0; i < 20; i++) {
            long now = count(method, pathPrefix);
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(100);
        }
        return last;
    }

    private List<String> lines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
