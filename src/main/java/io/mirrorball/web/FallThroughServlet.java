package io.mirrorball.web;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The end of the chain: what no filter answered. Without an upstream that is a name that does not
 * exist here; anything outside the API is NOT_FOUND.
 */
public final class FallThroughServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        Object attribute = request.getAttribute(Route.ATTRIBUTE);
        if (!(attribute instanceof Route route)) {
            throw new OciException(OciErrorCode.NOT_FOUND, "no route for " + request.getRequestURI());
        }
        throw switch (route.kind()) {
            case MANIFEST -> new OciException(OciErrorCode.MANIFEST_UNKNOWN, "manifest " + route.reference()
                    + " is not in " + route.name());
            case BLOB -> new OciException(OciErrorCode.BLOB_UNKNOWN, "blob " + route.digest() + " is not in "
                    + route.name());
            default -> new OciException(OciErrorCode.NAME_UNKNOWN, "repository " + route.name() + " is not known");
        };
    }
}
