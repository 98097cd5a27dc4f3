package io.mirrorball.testing;

import io.mirrorball.oci.Digest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads docker-registry's access log (combined format, written into the process log by the
 * DockerRegistry fixture), lines such as
 * {@code 127.0.0.1 - - [date] "GET /v2/app/blobs/sha256:.. HTTP/1.1" 200 1234 "" "agent"}: request
 * counts and the bytes of response bodies the registry wrote.
 * <p>The size field counts the body bytes the registry handed to its socket. When a client dies mid
 * response, that can exceed what the client read by the size of the socket buffers (some MiB on
 * loopback); the line is written when the registry notices the broken connection.
 */
public final class AccessLog {
    /** {@code "METHOD PATH PROTO" STATUS SIZE}. */
    private static final Pattern REQUEST = Pattern.compile("\"([A-Z]+) (\\S+) HTTP/[0-9.]+\" (\\d{3}) (\\d+|-)");
    private static final Pattern BLOB_PATH = Pattern.compile("^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$");

    private final Path log;

    /** One request of the log. {@code bytes} is 0 where the log has {@code -}. */
    public record Entry(String method, String path, int status, long bytes) {
    }

    public AccessLog(Path log) {
        this.log = log;
    }

    /**
     * Requests with this method whose path starts with {@code pathPrefix} (e.g. {@code /v2/app/manifests/});
     * end the prefix with a space to match one whole path.
     */
    public long count(String method, String pathPrefix) {
        return entries().stream().filter(e -> matches(e, method, pathPrefix)).count();
    }

    /** As {@link #count}, after waiting up to 2 s for the count to stop changing (the log is written async). */
    public long settledCount(String method, String pathPrefix) throws InterruptedException {
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

    /**
     * The sum of the size field of requests with this method whose path starts with {@code pathPrefix}
     * (as in {@link #count}). Meaningful for GET only: the registry logs a HEAD with the size of the
     * body it did not send.
     */
    public long bytesServed(String method, String pathPrefix) {
        return entries().stream().filter(e -> matches(e, method, pathPrefix)).mapToLong(Entry::bytes).sum();
    }

    /**
     * Body bytes of {@code GET /v2/<name>/blobs/<digest>} per digest, summed over every repository
     * and every request (whatever the status), after waiting up to 2 s for the log to settle.
     */
    public Map<Digest, Long> blobBytesServed() throws InterruptedException {
        settle();
        Map<Digest, Long> bytes = new TreeMap<>();
        for (Entry entry : entries()) {
            if (entry.method().equals("GET")) {
                Matcher blob = BLOB_PATH.matcher(pathOnly(entry.path()));
                if (blob.matches()) {
                    bytes.merge(Digest.parse(blob.group(2)), entry.bytes(), Long::sum);
                }
            }
        }
        return bytes;
    }

    /** Waits up to 2 s for the number of logged requests to stop changing. */
    public void settle() throws InterruptedException {
        long last = -1;
        for (int i = 0; i < 20; i++) {
            long now = entries().size();
            if (now == last) {
                return;
            }
            last = now;
            Thread.sleep(100);
        }
    }

    /** Every request line of the log, in order. */
    public List<Entry> entries() {
        return lines().stream().map(AccessLog::parse).flatMap(Optional::stream).toList();
    }

    private static Optional<Entry> parse(String line) {
        Matcher matcher = REQUEST.matcher(line);
        if (!matcher.find()) {
            return Optional.empty();
        }
        String size = matcher.group(4);
        return Optional.of(new Entry(matcher.group(1), matcher.group(2), Integer.parseInt(matcher.group(3)),
                size.equals("-") ? 0 : Long.parseLong(size)));
    }

    private static boolean matches(Entry entry, String method, String pathPrefix) {
        // the path followed by the space before the protocol, so that a prefix ending in " " pins the whole path
        return entry.method().equals(method) && (entry.path() + " ").startsWith(pathPrefix);
    }

    private static String pathOnly(String path) {
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private List<String> lines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
