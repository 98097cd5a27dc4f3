package io.mirrorball.web;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.ContentAddress;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;

/**
 * Repositories named by content: a CIDv1 ({@code bafy...}), an ipdr {@code ciq...} name, or a
 * manifest digest in hex. They are served from IPFS, cloned first when they are not here, and are
 * read-only: every write is DENIED, except an administrator's DELETE of a manifest, which takes the
 * image down here (docs/gc.md).
 */
public final class ContentAddressedFilter extends RouteFilter {
    private static final long serialVersionUID = 1L;

    @Override
    void filter(Route route, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (route.name() == null) {
            chain.doFilter(request, response);
            return;
        }
        Optional<ContentAddress> address = ContentAddress.of(route.name());
        if (address.isEmpty()) {
            if (ContentAddress.looksLikeBadCid(route.name())) {
                throw new OciException(OciErrorCode.NAME_INVALID, route.name() + " is not a valid CID");
            }
            chain.doFilter(request, response);
            return;
        }
        if (route.kind() == RouteKind.MANIFEST && route.method().equals("DELETE")
                && Boolean.TRUE.equals(request.getAttribute(AuthFilter.ADMIN_ATTRIBUTE))) {
            gateway().manifestHandler().deleteContentAddressed(address.get(), route, response);
            return;
        }
        boolean readable = route.isRead() && switch (route.kind()) {
            case MANIFEST, BLOB, TAGS, REFERRERS -> true;
            default -> false;
        };
        if (!readable) {
            throw new OciException(OciErrorCode.DENIED, route.name()
                    + " is content-addressed and read-only: push to an ordinary name instead");
        }
        request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "ipfs");
        if (!address.get().name().equals(route.name().value())) {
            route = route.withName(RepositoryName.parse(address.get().name())); // ipfs/<cid>: the repository <cid>
        }
        MirrorballConfig.Ipfs ipfs = gateway().config().storage().ipfs();
        gateway().store().cloner().ensurePresent(address.get(), ipfs.cloneEnabled(), ipfs.cloneTimeout());
        if (route.kind() == RouteKind.MANIFEST && !address.get().isDigest()) {
            // the image this repository is a copy of; a manifest published here on its own may override it
            response.setHeader("X-Ipfs-Path", "/ipfs/" + address.get().cid());
        }
        switch (route.kind()) {
            case MANIFEST -> gateway().manifestHandler().get(route, request, response);
            case BLOB -> gateway().blobHandler().get(route, request, response);
            case TAGS -> gateway().listHandler().tags(route, request, response);
            default -> gateway().listHandler().referrers(route, request, response);
        }
    }
}
