package io.mirrorball.web;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.BlobStore;
import io.mirrorball.store.UploadSession;
import io.mirrorball.store.UploadStore;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;

/** The upload endpoints: {@code POST /blobs/uploads/}, and PATCH, PUT, GET, DELETE of a session. */
final class UploadHandler {
    private final UploadStore uploads;
    private final BlobStore blobs;

    UploadHandler(UploadStore uploads, BlobStore blobs) {
        this.uploads = uploads;
        this.blobs = blobs;
    }

    /**
     * POST: a cross-repository mount, a monolithic upload ({@code ?digest=}), or a new session.
     * Parameters come from the query string only (see {@link QueryParameters}), never from the body.
     */
    void start(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        RepositoryName name = route.name();
        String mount = QueryParameters.get(request, "mount");
        String from = QueryParameters.get(request, "from");
        if (mount != null && Digest.isDigest(mount)) {
            Digest digest = Digest.parse(mount);
            if (mountable(digest, from).isPresent()) {
                blobs.link(name, digest);
                created(request, response, name, digest);
                return;
            }
        }
        String digestParam = QueryParameters.get(request, "digest");
        if (digestParam != null && mount == null) {
            Digest digest = Digest.parse(digestParam);
            UploadSession session = uploads.start(name);
            try {
                uploads.append(session, ClientStreams.body(request), null, declaredLength(request));
                uploads.complete(session, digest);
            } catch (IOException | RuntimeException e) {
                uploads.cancel(session);
                throw e;
            }
            created(request, response, name, digest);
            return;
        }
        UploadSession session = uploads.start(name);
        accepted(request, response, session);
    }

    /**
     * The blob a mount may link: with {@code from}, only if that repository holds it; without, any blob
     * this registry holds, since blob storage is content-addressed and global. The caller may read
     * every repository here: without htpasswd everyone may, and with it a push is authenticated and
     * AuthFilter gives every user the same access to every repository (it has no per-repository scopes;
     * should it get them, this must check that the caller may read a repository that links the blob).
     */
    private Optional<BlobInfo> mountable(Digest digest, String from) throws IOException {
        if (from == null) {
            return blobs.stat(digest);
        }
        if (!RepositoryName.isValid(from)) {
            return Optional.empty();
        }
        return blobs.stat(RepositoryName.parse(from), digest);
    }

    void patch(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        UploadSession session = uploads.get(route.name(), route.uploadId());
        Long start = null;
        Long length = declaredLength(request);
        String contentRange = request.getHeader("Content-Range");
        if (contentRange != null) {
            ByteRange chunk = ByteRange.parseChunk(contentRange);
            start = chunk.offset();
            if (length != null && length != chunk.length()) {
                throw new OciException(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, "Content-Range " + contentRange
                        + " does not match Content-Length " + length);
            }
            length = chunk.length();
        }
        session = uploads.append(session, ClientStreams.body(request), start, length);
        accepted(request, response, session);
    }

    /** PUT {@code ?digest=}: an optional last chunk, then verification and the move into IPFS. */
    void put(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        String digestParam = QueryParameters.get(request, "digest");
        if (digestParam == null) {
            throw new OciException(OciErrorCode.DIGEST_INVALID, "digest parameter is missing");
        }
        Digest digest = Digest.parse(digestParam);
        UploadSession session = uploads.get(route.name(), route.uploadId());
        if (hasBody(request)) {
            Long start = null;
            Long length = declaredLength(request);
            String contentRange = request.getHeader("Content-Range");
            if (contentRange != null) {
                ByteRange chunk = ByteRange.parseChunk(contentRange);
                start = chunk.offset();
                length = chunk.length();
            }
            session = uploads.append(session, ClientStreams.body(request), start, length);
        }
        uploads.complete(session, digest);
        created(request, response, route.name(), digest);
    }

    void status(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        UploadSession session = uploads.get(route.name(), route.uploadId());
        sessionHeaders(request, response, session);
        response.setStatus(HttpServletResponse.SC_NO_CONTENT);
    }

    void cancel(Route route, HttpServletResponse response) throws IOException {
        UploadSession session = uploads.get(route.name(), route.uploadId());
        uploads.cancel(session);
        response.setStatus(HttpServletResponse.SC_NO_CONTENT);
    }

    private static void accepted(HttpServletRequest request, HttpServletResponse response, UploadSession session) {
        sessionHeaders(request, response, session);
        response.setStatus(HttpServletResponse.SC_ACCEPTED);
        response.setContentLength(0);
    }

    private static void sessionHeaders(HttpServletRequest request, HttpServletResponse response,
                                       UploadSession session) {
        response.setHeader("Location", request.getContextPath() + "/v2/" + session.name() + "/blobs/uploads/"
                + session.uuid());
        response.setHeader("Range", UploadStore.rangeHeader(session.size()));
        response.setHeader("Docker-Upload-UUID", session.uuid());
    }

    private static void created(HttpServletRequest request, HttpServletResponse response, RepositoryName name,
                                Digest digest) {
        response.setStatus(HttpServletResponse.SC_CREATED);
        response.setHeader("Location", request.getContextPath() + "/v2/" + name + "/blobs/" + digest);
        response.setHeader("Docker-Content-Digest", digest.toString());
        response.setContentLength(0);
    }

    private static Long declaredLength(HttpServletRequest request) {
        long length = request.getContentLengthLong();
        return length >= 0 ? length : null;
    }

    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
    }
}
