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
import java.nio.file.FileSystemException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become responses: an {@link OciException} becomes the OCI error
 * JSON with its status; an IPFS or I/O failure becomes 502, 503 (a full disk too) or 504; anything else is a bug,
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
            LOG.debug("{} {}: client went away: {}", request.getMethod(), LogText.path(request),
                    LogText.escape(e.getMessage()));
            throw e;
        } catch (IOException e) {
            fail(request, response, fromIo(e), e);
        } catch (RuntimeException | ServletException e) {
            LOG.error("{} {} failed", request.getMethod(), LogText.path(request), e);
            fail(request, response, new OciException(OciErrorCode.UNKNOWN, "internal error, see the gateway log"), e);
        }
    }

    /**
     * An I/O failure of storage (the upload spool, the embedded node's disk) or of a connection
     * behind the gateway. The detail says what happened, never where: the message of an
     * IOException names files and hosts, so it goes to the log only.
     */
    static OciException fromIo(IOException e) {
        if (isDiskFull(e)) {
            return new OciException(OciErrorCode.UNAVAILABLE, DISK_FULL, e);
        }
        if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
            return new OciException(OciErrorCode.GATEWAY_TIMEOUT, "storage or upstream did not answer in time", e);
        }
        return new OciException(OciErrorCode.BAD_GATEWAY, "storage or upstream failed, see the gateway log", e);
    }

    static OciException fromIpfs(IpfsException e) {
        if (isDiskFull(e)) {
            return new OciException(OciErrorCode.UNAVAILABLE, DISK_FULL, e);
        }
        return switch (e.kind()) {
            case UNAVAILABLE -> new OciException(OciErrorCode.UNAVAILABLE, "ipfs: the IPFS node is unavailable", e);
            case TIMEOUT -> new OciException(OciErrorCode.GATEWAY_TIMEOUT, "ipfs: the IPFS node did not answer in time",
                    e);
            case FAILED -> new OciException(OciErrorCode.BAD_GATEWAY, "ipfs: the IPFS node failed, see the gateway log",
                    e);
            case CORRUPT -> new OciException(OciErrorCode.BAD_GATEWAY, "ipfs: stored content does not match its digest",
                    e);
        };
    }

    /** What a full disk (or quota) answers: 503, since it lasts until space is freed, like an outage. */
    static final String DISK_FULL = "storage is full: no space left on device";

    /** ENOSPC or EDQUOT anywhere in the cause chain, from the JDK (local files) or from Kubo's error text. */
    static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String text = t instanceof FileSystemException fs ? fs.getReason() : t.getMessage();
            if (text != null) {
                String lower = text.toLowerCase(Locale.ROOT);
                if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")
                        || lower.contains("not enough space on the disk")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The detail as the client may see it: whatever slipped through from an exception message is
     * removed (URLs with their credentials, absolute file and MFS paths, Java class names). Paths of
     * this API ({@code /v2/...}, {@code /ipfs/...}) are the client's own and stay.
     */
    static String safeDetail(String detail) {
        if (detail == null) {
            return "";
        }
        String safe = URL.matcher(detail).replaceAll("<url>");
        safe = JAVA_CLASS.matcher(safe).replaceAll("");
        safe = FILE_PATH.matcher(safe).replaceAll(m -> m.group().startsWith("/v2/") || m.group().startsWith("/ipfs/")
                || m.group().equals("/v2") ? java.util.regex.Matcher.quoteReplacement(m.group()) : "<path>");
        return safe.length() > 1000 ? safe.substring(0, 1000) + "..." : safe;
    }

    private static final Pattern URL = Pattern.compile("\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>]*");
    private static final Pattern JAVA_CLASS = Pattern.compile(
            "\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error|Throwable)\\b:? ?");
    private static final Pattern FILE_PATH = Pattern.compile("(?<![\\w.:/-])(?:/[\\w.@+~-]+){2,}/?|[A-Za-z]:\\\\[^\\s\"']+");

    private static void fail(HttpServletRequest request, HttpServletResponse response, OciException error,
                             Exception cause) throws IOException, ServletException {
        if (response.isCommitted()) {
            LOG.warn("{} {}: aborting the response after it started: {}", request.getMethod(),
                    LogText.path(request), LogText.escape(cause.toString()));
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new ServletException(cause);
        }
        // the log has the whole story (the cause's message names files and hosts); the client gets the detail
        String logged = cause == error || cause.getMessage() == null ? error.getMessage()
                : error.getMessage() + " (" + cause + ")";
        if (error.code().status() >= 500) {
            LOG.warn("{} {}: {}", request.getMethod(), LogText.path(request), LogText.escape(logged));
        } else {
            LOG.debug("{} {}: {}", request.getMethod(), LogText.path(request), LogText.escape(logged));
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
        entry.put("detail", safeDetail(error.detail()));
        Json.write(response, error.code().status(), "application/json", Map.of("errors", List.of(entry)),
                "HEAD".equals(request.getMethod()));
    }
}
