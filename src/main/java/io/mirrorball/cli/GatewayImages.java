package io.mirrorball.cli;

import io.mirrorball.ipfs.Cid;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The images of a running gateway, for {@code export --from URL}: a reference is resolved with a
 * manifest {@code HEAD} and its {@code X-Ipfs-Path}, and an image's CAR is the gateway's
 * {@code GET /ipfs/<cid>?format=car} (re-hashed block by block by the CAR writer).
 */
final class GatewayImages {
    /** Connecting and each response's headers; the body of a CAR streams as long as it takes. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration HEADERS_TIMEOUT = Duration.ofSeconds(120);

    private final String base;
    private final HttpClient http;

    GatewayImages(String url) {
        this.base = url.replaceAll("/+$", "");
        URI.create(base); // an invalid URL fails here
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    }

    /** The CID of an image: a CID as it is, or a reference's {@code X-Ipfs-Path} at the gateway. */
    Cid resolve(String image) throws IOException {
        if (image.indexOf('/') < 0 && image.indexOf(':') < 0 && image.indexOf('@') < 0 && Cid.isCid(image)) {
            return Cid.parse(image);
        }
        ImageRef ref = ImageRef.parse(image);
        HttpResponse<Void> response = send(HttpRequest.newBuilder(URI.create(base + ref.manifestPath()))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", CidCommand.ACCEPT),
                HttpResponse.BodyHandlers.discarding());
        String shown = ref.toString();
        if (response.statusCode() != 200) {
            throw new IOException(shown + ": the gateway at " + base + " answered " + response.statusCode());
        }
        String path = response.headers().firstValue("X-Ipfs-Path").orElse("");
        if (!path.startsWith("/ipfs/") || !Cid.isCid(path.substring("/ipfs/".length()))) {
            throw new IOException(shown + " has no IPFS CID at " + base + " (never published there)");
        }
        return Cid.parse(path.substring("/ipfs/".length()));
    }

    /** The gateway's CAR of the DAG under {@code root}. */
    InputStream car(Cid root) throws IOException {
        HttpResponse<InputStream> response = send(HttpRequest.newBuilder(URI.create(base + "/ipfs/" + root
                + "?format=car")).GET().header("Accept", "application/vnd.ipld.car"),
                HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException(root + ": the gateway at " + base + " answered " + response.statusCode()
                    + " to a CAR request");
        }
        return response.body();
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body)
            throws IOException {
        try {
            return http.send(request.timeout(HEADERS_TIMEOUT).build(), body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while asking " + base);
        } catch (java.net.ConnectException e) {
            throw new IOException("cannot connect to the gateway at " + base, e);
        }
    }
}
