package io.mirrorball.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Reads of local repositories (names pushed here) from IPFS, and the registry-wide endpoints
 * ({@code /v2/}, the catalog). Names that do not exist locally go on down the chain to the
 * upstream fall-through when any upstream is configured (whichever it will be, a local name wins);
 * without an upstream they are answered here.
 */
public final class LocalRepositoryFilter extends RouteFilter {
    private static final long serialVersionUID = 1L;

    @Override
    void filter(Route route, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        switch (route.kind()) {
            case BASE -> ListHandler.base(route, response);
            case CATALOG -> {
                request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "ipfs");
                gateway().listHandler().catalog(route, request, response);
            }
            default -> {
                if (gateway().upstreams().any()
                        && !gateway().store().repositories().exists(route.name())) {
                    chain.doFilter(request, response);
                    return;
                }
                if (route.isRead()) {
                    request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "ipfs");
                }
                switch (route.kind()) {
                    case MANIFEST -> gateway().manifestHandler().get(route, request, response);
                    case BLOB -> gateway().blobHandler().get(route, request, response);
                    case TAGS -> gateway().listHandler().tags(route, request, response);
                    case REFERRERS -> gateway().listHandler().referrers(route, request, response);
                    default -> chain.doFilter(request, response);
                }
            }
        }
    }
}
