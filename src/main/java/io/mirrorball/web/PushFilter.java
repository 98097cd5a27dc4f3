package io.mirrorball.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The push interceptor: uploads, manifest PUT and DELETE, and blob DELETE are stored in IPFS.
 * Reads pass on down the chain.
 */
public final class PushFilter extends RouteFilter {
    private static final long serialVersionUID = 1L;

    @Override
    void filter(Route route, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        handle(route, request, response, chain);
        if (route.name() != null && !route.isRead() && response.getStatus() < 400) {
            // the repository exists now: reads must not go upstream on a cached "absent"
            gateway().store().repositories().written(route.name());
        }
    }

    private void handle(Route route, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        switch (route.kind()) {
            case UPLOAD_START -> gateway().uploadHandler().start(route, request, response);
            case UPLOAD -> {
                switch (route.method()) {
                    case "PATCH" -> gateway().uploadHandler().patch(route, request, response);
                    case "PUT" -> gateway().uploadHandler().put(route, request, response);
                    case "GET" -> gateway().uploadHandler().status(route, request, response);
                    default -> gateway().uploadHandler().cancel(route, response);
                }
            }
            case MANIFEST -> {
                switch (route.method()) {
                    case "PUT" -> gateway().manifestHandler().put(route, request, response);
                    case "DELETE" -> gateway().manifestHandler().delete(route, response);
                    default -> chain.doFilter(request, response);
                }
            }
            case BLOB -> {
                if (route.method().equals("DELETE")) {
                    gateway().blobHandler().delete(route, response);
                } else {
                    chain.doFilter(request, response);
                }
            }
            default -> chain.doFilter(request, response);
        }
    }
}
