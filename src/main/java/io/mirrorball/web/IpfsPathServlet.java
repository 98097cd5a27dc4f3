package io.mirrorball.web;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code GET|HEAD /ipfs/<cid>}: the IPFS trustless gateway, so that other IPFS clients (another
 * mirrorball with {@code storage.ipfs.embedded.gateways}, Helia, Kubo's HTTP retrieval) can fetch
 * what this gateway holds and verify it themselves.
 *
 * <ul>
 *   <li>{@code Accept: application/vnd.ipld.raw} or {@code ?format=raw}: the block, as is.</li>
 *   <li>{@code Accept: application/vnd.ipld.car} or {@code ?format=car}: a CAR v1 of the whole DAG
 *       ({@code dag-scope=all}), depth first, each block once, streamed from {@code dag/export}.</li>
 *   <li>Anything else: 406. This is a trustless gateway only; it never deserialises UnixFS, so a
 *       response is always verifiable against the CID that was asked for.</li>
 * </ul>
 *
 * <p>Only content that the node holds locally is served ({@code block/stat} offline first): an
 * unknown CID is a quick 404, never a network search, and two gateways that fetch from each other
 * cannot chase a missing block in circles. Errors are {@code text/plain}, as gateways answer them;
 * a failing node becomes 502/503/504 in {@link ErrorsFilter}. {@code dag-scope=block} gives a CAR
 * of the root block alone. Paths below the CID, {@code dag-scope=entity}, {@code entity-bytes} and
 * CAR versions other than 1 are refused with 400 or 406.
 */
public final class IpfsPathServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    static final String RAW = "application/vnd.ipld.raw";
    static final String CAR = "application/vnd.ipld.car";
    /** What the CAR is: version 1, depth-first order, no duplicate blocks. */
    static final String CAR_CONTENT_TYPE = CAR + "; version=1; order=dfs; dups=n";
    private static final String IMMUTABLE = "public, max-age=29030400, immutable";
    private static final int CHUNK = 64 * 1024;

    enum Format { RAW, CAR }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, false);
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, true);
    }

    private void serve(HttpServletRequest request, HttpServletResponse response, boolean head) throws IOException {
        request.setAttribute(RequestLogFilter.SOURCE_ATTRIBUTE, "ipfs");
        String path = request.getRequestURI().substring(request.getContextPath().length());
        String rest = path.startsWith("/ipfs/") ? path.substring("/ipfs/".length()) : "";
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        if (rest.isEmpty()) {
            plain(response, 400, "missing CID: use /ipfs/<cid>");
            return;
        }
        if (rest.contains("/")) {
            plain(response, 400, "paths below a CID are not supported here: use /ipfs/<cid>");
            return;
        }
        Cid cid;
        try {
            cid = Cid.parse(rest);
        } catch (IllegalArgumentException e) {
            plain(response, 400, "invalid CID '" + shorten(rest) + "': " + e.getMessage());
            return;
        }
        Optional<Format> format;
        try {
            format = format(request);
        } catch (IllegalArgumentException e) {
            plain(response, 400, e.getMessage());
            return;
        }
        if (format.isEmpty()) {
            response.setHeader("Vary", "Accept");
            plain(response, 406, "this is a trustless gateway: ask for " + RAW + " or " + CAR
                    + " (Accept header, or ?format=raw / ?format=car)");
            return;
        }
        String scope = QueryParameters.get(request, "dag-scope");
        boolean rootOnly = "block".equals(scope);
        if (QueryParameters.get(request, "entity-bytes") != null || scope != null && !scope.equals("all") && !rootOnly) {
            plain(response, 400, "only dag-scope=all and dag-scope=block are supported (no entity-bytes)");
            return;
        }
        IpfsNode node = Gateway.from(getServletContext()).node();
        if (!cid.isSha256() || node.blockStat(cid).isEmpty()) {
            plain(response, 404, "block " + cid + " is not on this node");
            return;
        }
        response.setHeader("X-Ipfs-Path", "/ipfs/" + cid);
        response.setHeader("X-Ipfs-Roots", cid.toString());
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Vary", "Accept");
        response.setHeader("Cache-Control", IMMUTABLE);
        if (format.get() == Format.RAW) {
            raw(request, response, node, cid, head);
        } else {
            car(response, node, cid, rootOnly, head);
        }
    }

    private static void raw(HttpServletRequest request, HttpServletResponse response, IpfsNode node, Cid cid,
                            boolean head) throws IOException {
        String etag = "\"" + cid + ".raw\"";
        response.setHeader("Etag", etag);
        response.setHeader("Content-Disposition", "attachment; filename=\"" + cid + ".bin\"");
        String ifNoneMatch = request.getHeader("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.equals("*") || ifNoneMatch.contains(etag))) {
            response.setStatus(304);
            return;
        }
        byte[] block;
        try {
            block = node.blockGet(cid); // local (checked above), at most 1 MiB, verified by the node
        } catch (IpfsNotFoundException e) {
            plain(response, 404, "block " + cid + " is not on this node");
            return;
        }
        response.setStatus(200);
        response.setContentType(RAW);
        response.setContentLengthLong(block.length);
        if (!head) {
            response.getOutputStream().write(block);
        }
    }

    private static void car(HttpServletResponse response, IpfsNode node, Cid cid, boolean rootOnly, boolean head)
            throws IOException {
        response.setHeader("Content-Disposition", "attachment; filename=\"" + cid + ".car\"");
        response.setStatus(200);
        response.setContentType(CAR_CONTENT_TYPE);
        if (head) {
            return;
        }
        // Streamed: one chunk written before the next is read. A failure after the first bytes
        // aborts the connection (ErrorsFilter), so a client never takes a cut CAR for a whole one.
        try (InputStream car = node.dagExport(cid)) {
            OutputStream out = response.getOutputStream();
            if (rootOnly) {
                // dag/export is depth first from the root: the header, then the root block's section
                copyFrame(car, out);
                copyFrame(car, out);
                return;
            }
            byte[] buffer = new byte[CHUNK];
            for (int n; (n = car.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        }
    }

    /** Copies one varint-length-prefixed CAR frame (header or section; at most a block plus its CID). */
    private static void copyFrame(InputStream car, OutputStream out) throws IOException {
        long length = 0;
        for (int shift = 0; ; shift += 7) {
            int b = car.read();
            if (b < 0 || shift > 28) {
                throw new IOException("dag/export: truncated or oversized CAR frame");
            }
            out.write(b);
            length |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (length > 2L * 1024 * 1024) {
            throw new IOException("dag/export: CAR frame of " + length + " bytes is over 2 MiB");
        }
        byte[] buffer = new byte[(int) Math.min(CHUNK, length)];
        while (length > 0) {
            int n = car.read(buffer, 0, (int) Math.min(buffer.length, length));
            if (n < 0) {
                throw new IOException("dag/export: truncated CAR frame");
            }
            out.write(buffer, 0, n);
            length -= n;
        }
    }

    /** The format asked for: {@code ?format=} wins over Accept; empty when neither names raw or CAR. */
    static Optional<Format> format(HttpServletRequest request) {
        String format = QueryParameters.get(request, "format");
        if (format != null) {
            return switch (format) {
                case "raw" -> Optional.of(Format.RAW);
                case "car" -> Optional.of(Format.CAR);
                default -> throw new IllegalArgumentException("unsupported format '" + shorten(format)
                        + "': use format=raw or format=car");
            };
        }
        String accept = request.getHeader("Accept");
        if (accept == null) {
            return Optional.empty();
        }
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            if (type.equals(RAW)) {
                return Optional.of(Format.RAW);
            }
            if (type.equals(CAR) && carParametersSupported(parts)) {
                return Optional.of(Format.CAR);
            }
        }
        return Optional.empty();
    }

    /** version 1 (or none), order dfs or unk (or none), dups y or n (or none): we send dfs, no dups. */
    private static boolean carParametersSupported(String[] parts) {
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].trim().split("=", 2);
            String name = kv[0].trim().toLowerCase(Locale.ROOT);
            String value = kv.length > 1 ? kv[1].trim().replace("\"", "") : "";
            boolean ok = switch (name) {
                case "version" -> value.equals("1");
                case "order" -> value.equals("dfs") || value.equals("unk");
                case "dups" -> value.equals("n") || value.equals("y");
                case "q" -> !value.equals("0");
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static void plain(HttpServletResponse response, int status, String message) throws IOException {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain; charset=utf-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private static String shorten(String text) {
        return text.length() <= 100 ? text : text.substring(0, 100) + "...";
    }
}
