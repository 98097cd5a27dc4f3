package io.mirrorball.web;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Manifest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.store.ContentAddress;
import io.mirrorball.store.ImageDeleter;
import io.mirrorball.store.ImagePublisher;
import io.mirrorball.store.ManifestStore;
import io.mirrorball.store.StoredManifest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

/** GET, HEAD, PUT and DELETE of {@code /v2/<name>/manifests/<reference>} for local repositories. */
final class ManifestHandler {
    private final ManifestStore manifests;
    private final ImagePublisher publisher;
    private final ImageDeleter deleter;

    ManifestHandler(ManifestStore manifests, ImagePublisher publisher, ImageDeleter deleter) {
        this.manifests = manifests;
        this.publisher = publisher;
        this.deleter = deleter;
    }

    void get(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        StoredManifest manifest = manifests.get(route.name(), route.reference());
        Optional<Cid> published = publisher.publishedCid(manifest.digest());
        if (published.isPresent()) {
            response.setHeader("X-Ipfs-Path", "/ipfs/" + published.get());
            publisher.ipdrCid(manifest.digest()).ifPresent(cid -> response.setHeader("X-Ipdr-Path", "/ipfs/" + cid));
        }
        serve(manifest, request, response, route.isHead());
    }

    /** Writes manifest bytes exactly as pushed, with their media type and digest. */
    static void serve(StoredManifest manifest, HttpServletRequest request, HttpServletResponse response,
                      boolean head) throws IOException {
        String etag = "\"" + manifest.digest() + "\"";
        response.setHeader("Docker-Content-Digest", manifest.digest().toString());
        response.setHeader("ETag", etag);
        response.setContentType(manifest.mediaType());
        if (etag.equals(request.getHeader("If-None-Match"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentLength(manifest.content().length);
        if (!head) {
            ClientStreams.output(response).write(manifest.content());
        }
    }

    void put(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] content = readCapped(request);
        ManifestStore.PutResult result = manifests.put(route.name(), route.reference(), content,
                request.getContentType());
        response.setStatus(HttpServletResponse.SC_CREATED);
        response.setHeader("Location", request.getContextPath() + "/v2/" + route.name() + "/manifests/"
                + result.digest());
        response.setHeader("Docker-Content-Digest", result.digest().toString());
        if (result.subject() != null) {
            response.setHeader("OCI-Subject", result.subject().toString());
        }
        if (result.published() != null) {
            response.setHeader("X-Ipfs-Path", "/ipfs/" + result.published());
            publisher.ipdrCid(result.digest()).ifPresent(cid -> response.setHeader("X-Ipdr-Path", "/ipfs/" + cid));
        }
        response.setContentLength(0);
    }

    /**
     * DELETE by digest removes the manifest from the repository with its tags (and its published copies
     * once no repository holds it); DELETE by tag removes only the tag (docs/gc.md).
     */
    void delete(Route route, HttpServletResponse response) throws IOException {
        if (!deleter.delete(route.name(), route.reference())) {
            throw new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + route.reference() + " is not in "
                    + route.name());
        }
        response.setStatus(HttpServletResponse.SC_ACCEPTED);
        response.setContentLength(0);
    }

    /** An administrator's DELETE of a manifest of a content-addressed repository: the image is taken down here. */
    void deleteContentAddressed(ContentAddress address, Route route, HttpServletResponse response)
            throws IOException {
        deleter.deleteContentAddressed(address, route.reference());
        response.setStatus(HttpServletResponse.SC_ACCEPTED);
        response.setContentLength(0);
    }

    /** The longest declared body that is read and dropped before a 413, rather than cut off. */
    private static final long DRAIN_LIMIT = 16L * 1024 * 1024;

    /** Reads a manifest body, refusing more than {@link Manifest#MAX_BYTES} with 413. */
    static byte[] readCapped(HttpServletRequest request) throws IOException {
        long declared = request.getContentLengthLong();
        InputStream in = ClientStreams.body(request);
        if (declared > Manifest.MAX_BYTES) {
            if (declared <= DRAIN_LIMIT) {
                // a client still sending a body it declared when the answer comes may see only a reset;
                // a body of a few MiB is read and dropped so that it gets the 413 (bigger ones are cut)
                in.transferTo(OutputStream.nullOutputStream());
            }
            throw tooLarge(declared);
        }
        byte[] buffer = new byte[declared >= 0 ? (int) declared : 64 * 1024];
        int filled = 0;
        while (true) {
            if (filled == buffer.length) {
                if (buffer.length >= Manifest.MAX_BYTES || declared >= 0) {
                    // the cap, or the declared length, is reached: anything more is too much
                    if (in.read() >= 0) {
                        throw declared >= 0 ? new OciException(OciErrorCode.SIZE_INVALID,
                                "manifest body is longer than its Content-Length " + declared) : tooLarge(-1);
                    }
                    break;
                }
                buffer = java.util.Arrays.copyOf(buffer, Math.min(Manifest.MAX_BYTES, buffer.length * 2));
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        if (declared >= 0 && filled != declared) {
            throw new OciException(OciErrorCode.SIZE_INVALID, "manifest body has " + filled + " bytes, Content-Length "
                    + declared);
        }
        return filled == buffer.length ? buffer : java.util.Arrays.copyOf(buffer, filled);
    }

    private static OciException tooLarge(long declared) {
        return new OciException(OciErrorCode.MANIFEST_TOO_LARGE, "manifest "
                + (declared >= 0 ? "of " + declared + " bytes " : "") + "is over the limit of " + Manifest.MAX_BYTES
                + " bytes");
    }
}
