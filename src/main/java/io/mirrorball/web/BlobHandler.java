package io.mirrorball.web;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.BlobStore;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Optional;

/** GET, HEAD and DELETE of {@code /v2/<name>/blobs/<digest>} for local repositories. */
final class BlobHandler {
    private final BlobStore blobs;

    BlobHandler(BlobStore blobs) {
        this.blobs = blobs;
    }

    void get(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        BlobInfo blob = blobs.stat(route.name(), route.digest())
                .orElseThrow(() -> new OciException(OciErrorCode.BLOB_UNKNOWN, "blob " + route.digest()
                        + " is not in " + route.name()));
        serve(blob, request, response, route.isHead());
    }

    /** Writes a blob (or the asked range of it) with the headers of the distribution spec. */
    static void serve(BlobInfo blob, HttpServletRequest request, HttpServletResponse response, boolean head,
                      BlobStore blobs) throws IOException {
        String etag = "\"" + blob.digest() + "\"";
        response.setHeader("Docker-Content-Digest", blob.digest().toString());
        response.setHeader("ETag", etag);
        response.setHeader("Accept-Ranges", "bytes");
        response.setHeader("Cache-Control", "max-age=31536000");
        response.setContentType("application/octet-stream");
        if (etag.equals(request.getHeader("If-None-Match"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        Optional<ByteRange> range = head ? Optional.empty()
                : ByteRange.parseRequest(request.getHeader("Range"), blob.size());
        if (range.isEmpty()) {
            response.setStatus(HttpServletResponse.SC_OK);
            response.setContentLengthLong(blob.size());
            if (!head) {
                OutputStream out = ClientStreams.output(response);
                blobs.copyTo(blob, out);
            }
            return;
        }
        ByteRange r = range.get();
        response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
        response.setHeader("Content-Range", "bytes " + r.offset() + "-" + r.last() + "/" + blob.size());
        response.setContentLengthLong(r.length());
        blobs.copyRange(blob, r.offset(), r.length(), ClientStreams.output(response));
    }

    private void serve(BlobInfo blob, HttpServletRequest request, HttpServletResponse response, boolean head)
            throws IOException {
        serve(blob, request, response, head, blobs);
    }

    void delete(Route route, HttpServletResponse response) throws IOException {
        if (!blobs.unlink(route.name(), route.digest())) {
            throw new OciException(OciErrorCode.BLOB_UNKNOWN, "blob " + route.digest() + " is not in " + route.name());
        }
        response.setStatus(HttpServletResponse.SC_ACCEPTED);
        response.setContentLength(0);
    }
}
