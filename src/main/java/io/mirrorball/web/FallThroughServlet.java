package io.mirrorball.web;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.store.StoredManifest;
import io.mirrorball.upstream.ResponseSink;
import io.mirrorball.upstream.UpstreamDocument;
import io.mirrorball.upstream.UpstreamErrorException;
import io.mirrorball.upstream.UpstreamManifest;
import io.mirrorball.upstream.UpstreamRegistry;
import io.mirrorball.upstream.Upstreams;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Optional;

/**
 * The end of the chain: what no filter answered. With upstreams configured, reads of names that are
 * neither content-addressed nor local go to the upstream {@link Upstreams} chooses ({@code ?ns=}, a
 * name prefix such as {@code ghcr.io/}, or the default), through its {@link UpstreamRegistry}:
 * manifests, blobs, tags and referrers; the upstream's own error answers pass through unchanged.
 * Writes never get here (they are local pushes). Without an upstream for the name, it does not exist:
 * MANIFEST_UNKNOWN, BLOB_UNKNOWN or NAME_UNKNOWN. Anything outside the API is NOT_FOUND.
 */
public final class FallThroughServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Object attribute = request.getAttribute(Route.ATTRIBUTE);
        if (!(attribute instanceof Route route)) {
            throw new OciException(OciErrorCode.NOT_FOUND, "no route for " + request.getRequestURI());
        }
        Gateway gateway = Gateway.from(getServletContext());
        if (!route.isRead() || route.name() == null) {
            throw unknown(route);
        }
        Upstreams.Target upstream = gateway.upstreams().resolve(route.name(), route.namespace())
                .orElseThrow(() -> unknown(route));
        request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "upstream");
        try {
            switch (route.kind()) {
                case MANIFEST -> manifest(upstream, route, request, response, gateway);
                case BLOB -> blob(upstream, route, request, response);
                case TAGS -> document(upstream.tags(request.getQueryString()), route, response);
                case REFERRERS -> document(upstream.referrers(route.digest(), request.getQueryString()), route,
                        response);
                default -> throw unknown(route);
            }
        } catch (UpstreamErrorException e) {
            passOn(e, route, request, response);
        }
    }

    private static OciException unknown(Route route) {
        return switch (route.kind()) {
            case MANIFEST -> new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + route.reference()
                    + " is not in " + route.name());
            case BLOB -> new OciException(OciErrorCode.BLOB_UNKNOWN, "blob " + route.digest() + " is not in "
                    + route.name());
            default -> new OciException(OciErrorCode.NAME_UNKNOWN, "repository " + route.name() + " is not known");
        };
    }

    private static void manifest(Upstreams.Target upstream, Route route, HttpServletRequest request,
                                 HttpServletResponse response, Gateway gateway) throws IOException {
        UpstreamManifest manifest = upstream.manifest(route.reference(), route.isHead());
        if (manifest.cached()) {
            request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "cache");
        }
        if (upstream.config().publish()) {
            publishedCid(gateway, route, manifest).ifPresent(cid -> response.setHeader("X-Ipfs-Path", "/ipfs/" + cid));
        }
        String etag = "\"" + manifest.digest() + "\"";
        response.setHeader("Docker-Content-Digest", manifest.digest().toString());
        response.setHeader("ETag", etag);
        response.setContentType(manifest.mediaType());
        if (manifest.stale()) {
            response.setHeader("Warning", "110 mirrorball \"Response is Stale\"");
        }
        if (etag.equals(request.getHeader("If-None-Match"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentLengthLong(manifest.size());
        if (!route.isHead() && manifest.content() != null) {
            ClientStreams.output(response).write(manifest.content());
        }
    }

    /**
     * The chosen upstream's publish switch: the image's CID once every blob of it is in IPFS (mirrored as clients pulled
     * it); the first request that finds it complete publishes it, as a push would.
     */
    private static Optional<Cid> publishedCid(Gateway gateway, Route route, UpstreamManifest manifest)
            throws IOException {
        RegistryStore store = gateway.store();
        Optional<Cid> published = store.publisher().publishedCid(manifest.digest());
        if (published.isPresent()) {
            return published;
        }
        Optional<StoredManifest> stored = store.manifests().read(manifest.digest());
        if (stored.isEmpty() || !store.publisher().isComplete(stored.get())) {
            return Optional.empty();
        }
        return Optional.of(store.publisher().publish(route.name(), stored.get()).cid());
    }

    private void blob(Upstreams.Target upstream, Route route, HttpServletRequest request,
                      HttpServletResponse response) throws IOException {
        Optional<BlobInfo> stored = upstream.blob(route.digest(), route.isHead(), sink(request, response));
        if (stored.isPresent()) {
            // the copy in IPFS answers: this request did not fetch it from the upstream
            request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "cache");
            BlobHandler.serve(stored.get(), request, response, route.isHead(),
                    Gateway.from(getServletContext()).store().blobs());
        }
    }

    private static ResponseSink sink(HttpServletRequest request, HttpServletResponse response) {
        return new ResponseSink() {
            @Override
            public Slice range(long size) {
                return ByteRange.parseRequest(request.getHeader("Range"), size)
                        .map(r -> new Slice(r.offset(), r.length())).orElse(null);
            }

            @Override
            public void status(int status) {
                response.setStatus(status);
            }

            @Override
            public void header(String name, String value) {
                if (name.equalsIgnoreCase("Content-Type")) {
                    response.setContentType(value);
                } else {
                    response.setHeader(name, value);
                }
            }

            @Override
            public void contentLength(long length) {
                response.setContentLengthLong(length);
            }

            @Override
            public OutputStream body() throws IOException {
                return ClientStreams.output(response);
            }
        };
    }

    private static void document(UpstreamDocument document, Route route, HttpServletResponse response)
            throws IOException {
        response.setStatus(document.status());
        response.setContentType(document.contentType());
        document.headers().forEach(response::setHeader);
        if (document.stale()) {
            response.setHeader("Warning", "110 mirrorball \"Response is Stale\"");
        }
        response.setContentLength(document.body().length);
        if (!route.isHead()) {
            ClientStreams.output(response).write(document.body());
        }
    }

    /** The upstream's error answer, unchanged; one without a body gets the OCI error of its status. */
    private static void passOn(UpstreamErrorException e, Route route, HttpServletRequest request,
                               HttpServletResponse response) throws IOException {
        if (response.isCommitted()) {
            throw new IOException(e.getMessage(), e);
        }
        byte[] body = e.body();
        if (body.length == 0 && !route.isHead()) {
            throw e.status() == 404 ? unknown(route)
                    : new OciException(e.status() >= 500 ? OciErrorCode.BAD_GATEWAY : OciErrorCode.DENIED,
                    e.getMessage());
        }
        String requestId = response.getHeader("X-Request-Id");
        response.reset();
        if (requestId != null) {
            response.setHeader("X-Request-Id", requestId);
        }
        response.setHeader("Docker-Distribution-API-Version", "registry/2.0");
        response.setStatus(e.status());
        response.setContentType(e.contentType() == null ? "application/json" : e.contentType());
        response.setContentLength(body.length);
        if (!route.isHead()) {
            ClientStreams.output(response).write(body);
        }
    }
}
