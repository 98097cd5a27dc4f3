package io.mirrorball.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Parses the request into a {@link Route} and attaches it. Everything after this filter reads the
 * route, never the raw path. Requests outside {@code /v2} (the metrics servlet) pass untouched.
 */
public final class RoutingFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (!path.equals("/v2") && !path.startsWith("/v2/")) {
            chain.doFilter(request, response);
            return;
        }
        response.setHeader("Docker-Distribution-API-Version", "registry/2.0");
        request.setAttribute(Route.ATTRIBUTE, RouteParser.parse(request.getMethod(), path,
                request.getQueryString()));
        chain.doFilter(request, response);
    }
}
