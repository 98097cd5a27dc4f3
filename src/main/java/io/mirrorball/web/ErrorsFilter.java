package io.mirrorball.web;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become responses: an {@link OciException} becomes the OCI error
 * JSON with its status; an IPFS or I/O failure becomes 502, 503 or 504; anything else is a bug,
 * logged and answered 500 UNKNOWN without a stack trace. Once the response is committed nothing
 * can be said any more, so the exception is rethrown and the container aborts the connection.
 */
public final class ErrorsFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ErrorsFilter.class);

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        try {
            chain.doFilter(request, response);
        } catch (OciException e) {
            fail(request, response, e, e);
        } catch (IpfsException e) {
            fail(request, response, fromIpfs(e), e);
        } catch (ClientGoneException e) {
            LOG.debug("{} {}: client went away: {}", request.getMethod(), request.getRequestURI(), e.getMessage());
            throw e;
        } catch (IOException e) {
            OciErrorCode code = e instanceof SocketTimeoutException || e instanceof InterruptedIOException
                    ? OciErrorCode.GATEWAY_TIMEOUT : OciErrorCode.BAD_GATEWAY;
            fail(request, response, new OciException(code, e.getMessage(), e), e);
        } catch (RuntimeException | ServletException e) {
            LOG.error("{} {} failed", request.getMethod(), request.getRequestURI(), e);
            fail(request, response, new OciException(OciErrorCode.UNKNOWN, "internal error, see the gateway log"), e);
        }
    }

    static OciException fromIpfs(IpfsException e) {
        OciErrorCode code = switch (e.kind()) {
            case UNAVAILABLE -> OciErrorCode.UNAVAILABLE;
            case TIMEOUT -> OciErrorCode.GATEWAY_TIMEOUT;
            case FAILED, CORRUPT -> OciErrorCode.BAD_GATEWAY;
        };
        return new OciException(code, "ipfs: " + e.getMessage(), e);
    }

    private static void fail(HttpServletRequest request, HttpServletResponse response, OciException error,
                             Exception cause) throws IOException, ServletException {
        if (response.isCommitted()) {
            LOG.warn("{} {}: aborting the response after it started: {}", request.getMethod(),
                    request.getRequestURI(), cause.toString());
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new ServletException(cause);
        }
        if (error.code().status() >= 500) {
            LOG.warn("{} {}: {}", request.getMethod(), request.getRequestURI(), error.getMessage());
        } else {
            LOG.debug("{} {}: {}", request.getMethod(), request.getRequestURI(), error.getMessage());
        }
        String requestId = response.getHeader("X-Request-Id");
        response.reset();
        if (requestId != null) {
            response.setHeader("X-Request-Id", requestId);
        }
        error.headers().forEach(response::setHeader);
        response.setHeader("Docker-Distribution-API-Version", "registry/2.0");
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("code", error.code().code());
        entry.put("message", error.code().message());
        entry.put("detail", error.detail() == null ? "" : error.detail());
        Json.write(response, error.code().status(), "application/json", Map.of("errors", List.of(entry)),
                "HEAD".equals(request.getMethod()));
    }
}
