package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.UnixFs;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * Fetches single blocks from IPFS HTTP trustless gateways ({@code GET /ipfs/<cid>?format=raw} with
 * {@code Accept: application/vnd.ipld.raw}). Gateways are tried in order; a block is only accepted
 * when its bytes hash to its CID, so an untrusted gateway cannot inject content.
 */
final class GatewayFetcher {
    private final List<URI> gateways;
    private final Duration timeout;
    private final HttpClient client;

    GatewayFetcher(List<URI> gateways, Duration timeout, ExecutorService executor) {
        this.gateways = List.copyOf(gateways);
        this.timeout = timeout;
        this.client = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .executor(executor)
                .build();
    }

    /** The verified block, or empty when no gateway has it (or every answer was wrong). */
    Optional<byte[]> fetch(Cid cid) throws IOException {
        if (!cid.isSha256()) {
            return Optional.empty();
        }
        IOException last = null;
        for (URI gateway : gateways) {
            String base = gateway.toString().endsWith("/") ? gateway.toString() : gateway + "/";
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + "ipfs/" + cid + "?format=raw"))
                    .timeout(timeout)
                    .header("Accept", "application/vnd.ipld.raw")
                    .GET()
                    .build();
            try {
                HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        continue;
                    }
                    byte[] block = body.readNBytes(Blockstore.MAX_BLOCK + 1);
                    if (block.length <= Blockstore.MAX_BLOCK
                            && MessageDigest.isEqual(UnixFs.sha256(block), cid.sha256Digest())) {
                        return Optional.of(block);
                    }
                    last = new IpfsException(IpfsException.Kind.CORRUPT, "gateway " + gateway + " answered "
                            + block.length + " bytes for block " + cid + " that do not match it");
                }
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while fetching block " + cid);
            }
        }
        if (last instanceof IpfsException corrupt && corrupt.kind() == IpfsException.Kind.CORRUPT) {
            throw corrupt;
        }
        return Optional.empty();
    }
}
