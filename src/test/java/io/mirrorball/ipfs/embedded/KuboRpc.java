package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.ImportParams;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Kubo RPC calls on the Kubo test node that the CID-equality tests need (add with a streamed multipart body). */
final class KuboRpc {
    private static final Pattern HASH = Pattern.compile("\"Hash\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern NAME_HASH = Pattern.compile(
            "\"Name\"\\s*:\\s*\"([^\"]*)\"\\s*,\\s*\"Hash\"\\s*:\\s*\"([^\"]+)\"");
    private static final String BOUNDARY = "mirrorball-test-boundary-7d3f";

    private final KuboNode kubo;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    KuboRpc(KuboNode kubo) {
        this.kubo = kubo;
    }

    /** {@code add} with mirrorball's fixed import parameters; returns the root CID. */
    Cid add(Supplier<InputStream> content) throws IOException, InterruptedException {
        String head = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n";
        String tail = "\r\n--" + BOUNDARY + "--\r\n";
        String body = post("add?" + ImportParams.FIXED.kuboQuery() + "&pin=false", () -> new SequenceInputStream(
                Collections.enumeration(List.of(bytes(head), content.get(), bytes(tail)))));
        Matcher m = HASH.matcher(body);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        if (last == null) {
            throw new IOException("add answered without a Hash: " + body);
        }
        return Cid.parse(last);
    }

    /**
     * {@code add} of a directory tree (file paths relative to the directory "d", with "/" for
     * subdirectories); returns the CID the node reports for every directory and file, by path.
     */
    Map<String, Cid> addTree(Map<String, byte[]> files) throws IOException, InterruptedException {
        List<InputStream> parts = new ArrayList<>();
        // directories are implied by the file names
        for (Map.Entry<String, byte[]> file : new java.util.TreeMap<>(files).entrySet()) {
            parts.add(bytes("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    + URLEncoder.encode("d/" + file.getKey(), StandardCharsets.UTF_8)
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
            parts.add(new ByteArrayInputStream(file.getValue()));
            parts.add(bytes("\r\n"));
        }
        parts.add(bytes("--" + BOUNDARY + "--\r\n"));
        String body = post("add?" + ImportParams.FIXED.kuboQuery() + "&pin=false",
                () -> new SequenceInputStream(Collections.enumeration(new ArrayList<>(parts))));
        Map<String, Cid> out = new java.util.HashMap<>();
        Matcher m = NAME_HASH.matcher(body);
        while (m.find()) {
            out.put(m.group(1), Cid.parse(m.group(2)));
        }
        if (!out.containsKey("d")) {
            throw new IOException("add of a directory answered without the directory: " + body);
        }
        return out;
    }

    /** An RPC without a body; returns the answer. */
    String rpc(String pathAndQuery) {
        return kubo.rpc(pathAndQuery);
    }

    /** The Hash field of an answer. */
    static Cid hash(String answer) {
        Matcher m = HASH.matcher(answer);
        if (!m.find()) {
            throw new IllegalStateException("no Hash in " + answer);
        }
        return Cid.parse(m.group(1));
    }

    static String arg(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private String post(String pathAndQuery, Supplier<InputStream> body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(kubo.apiUrl() + "/api/v0/" + pathAndQuery))
                .timeout(Duration.ofMinutes(10))
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofInputStream(body))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("RPC " + pathAndQuery + " failed: " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
