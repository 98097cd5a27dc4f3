package io.mirrorball.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * A filter after the routing filter: it sees the gateway and the parsed {@link Route}; requests
 * that are not registry API routes (the metrics servlet) pass on untouched.
 */
abstract class RouteFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private transient Gateway gateway;

    @Override
    public void init() {
        gateway = Gateway.from(getServletContext());
    }

    Gateway gateway() {
        return gateway;
    }

    @Override
    protected final void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getAttribute(Route.ATTRIBUTE) instanceof Route route) {
            filter(route, request, response, chain);
        } else {
            chain.doFilter(request, response);
        }
    }

    abstract void filter(Route route, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException;
}
