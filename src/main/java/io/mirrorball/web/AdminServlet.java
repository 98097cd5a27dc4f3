package io.mirrorball.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.GarbageCollector;
import io.mirrorball.store.Scrub;
import io.mirrorball.upstream.ResponseSink;
import io.mirrorball.upstream.UpstreamRegistry;
import io.mirrorball.upstream.retention.CacheRetention;
import io.mirrorball.upstream.retention.CachedItem;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The administrative endpoints (docs/gc.md), for administrators only ({@link AuthFilter#ADMIN_ATTRIBUTE}):
 * {@code POST /admin/gc[?dry-run=true]} runs the store's mark and sweep while pushes go on, and
 * {@code POST /admin/fsck[?repair=true]} checks every stored blob against its digest, fetching a corrupt
 * pulled-through blob again from its upstream.
 */
public final class AdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /**
     * Online, a blob placed or linked this recently is kept even when no manifest names it yet (a push
     * between its blobs and its manifest), and so are block files this recent on the embedded node.
     */
    static final Duration ONLINE_GRACE = Duration.ofHours(1);
    /** How long a repair waits for a blob fetched again to be placed in the store after it streamed. */
    private static final Duration REFETCH_PLACED = Duration.ofSeconds(60);

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Boolean.TRUE.equals(request.getAttribute(AuthFilter.ADMIN_ATTRIBUTE))) {
            throw new OciException(OciErrorCode.DENIED, "administrative operations need an administrator");
        }
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        if (!path.equals("/gc") && !path.equals("/fsck")) {
            throw new OciException(OciErrorCode.NOT_FOUND, "no administrative operation " + LogText.escape(path));
        }
        if (!request.getMethod().equals("POST")) {
            throw new OciException(OciErrorCode.METHOD_UNKNOWN, "use POST for /admin" + path).withHeader("Allow",
                    "POST");
        }
        ObjectNode body = path.equals("/gc") ? gc(flag(request, "dry-run")) : fsck(flag(request, "repair"));
        Json.write(response, HttpServletResponse.SC_OK, "application/json", body, false);
    }

    private static boolean flag(HttpServletRequest request, String name) {
        String value = request.getParameter(name);
        if (value == null || value.equals("false")) {
            return false;
        }
        if (value.equals("true") || value.isEmpty()) {
            return true;
        }
        throw new OciException(OciErrorCode.UNSUPPORTED, name + " must be true or false");
    }

    private ObjectNode gc(boolean dryRun) throws IOException {
        Gateway gateway = Gateway.from(getServletContext());
        GarbageCollector.Result result = gateway.store().collector().run(new GarbageCollector.Options(dryRun,
                false, cacheToKeep(gateway), ONLINE_GRACE, ONLINE_GRACE));
        if (!dryRun) {
            gateway.retention().ifPresent(r -> result.blobDigests().forEach(r.ledger()::removed));
        }
        return gcJson(result);
    }

    /** A gc's result as JSON: {@code {"dryRun":..,"removed":[{"kind","name","size"}],"count":..,"freedBytes":..}}. */
    public static ObjectNode gcJson(GarbageCollector.Result result) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("dryRun", result.dryRun());
        body.put("count", result.removed().size());
        body.put("freedBytes", result.freedBytes());
        ArrayNode removed = body.putArray("removed");
        for (GarbageCollector.Removal removal : result.removed()) {
            ObjectNode r = removed.addObject();
            r.put("kind", removal.kind());
            r.put("name", removal.name());
            r.put("size", removal.size());
        }
        return body;
    }

    /** Pulled-through content within its retention: every ledger item that retention would not remove now. */
    static Set<Digest> cacheToKeep(Gateway gateway) throws IOException {
        Set<Digest> keep = new HashSet<>();
        Optional<CacheRetention> retention = gateway.retention();
        if (retention.isEmpty()) {
            return keep;
        }
        Set<CachedItem> removals = new HashSet<>(retention.get().plan().removals());
        for (CachedItem item : retention.get().ledger().items()) {
            if (!removals.contains(item)) {
                keep.add(item.digest());
            }
        }
        return keep;
    }

    private ObjectNode fsck(boolean repair) throws IOException {
        Gateway gateway = Gateway.from(getServletContext());
        Scrub.Report report = gateway.store().scrub().run(repair, digest -> refetch(gateway, digest));
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("repair", report.repair());
        body.put("blobsChecked", report.blobsChecked());
        body.put("bytesChecked", report.bytesChecked());
        ArrayNode problems = body.putArray("problems");
        for (Scrub.Finding finding : report.findings()) {
            ObjectNode f = problems.addObject();
            f.put("digest", finding.digest().toString());
            f.put("problem", finding.problem());
            f.put("action", finding.action());
        }
        return body;
    }

    /** Fetches a pulled-through blob again from the upstream it came from (the cache ledger says which). */
    static boolean refetch(Gateway gateway, Digest digest) throws IOException {
        Optional<CachedItem> item = gateway.retention().flatMap(r -> r.ledger().item(digest));
        if (item.isEmpty() || item.get().repository().isEmpty()
                || !RepositoryName.isValid(item.get().repository())) {
            return false;
        }
        Optional<UpstreamRegistry> registry = item.get().upstream().isEmpty() ? gateway.upstream()
                : gateway.upstreams().registry(item.get().upstream());
        if (registry.isEmpty()) {
            return false;
        }
        registry.get().blob(RepositoryName.parse(item.get().repository()), digest, false, new DiscardingSink());
        // the mirror's add may finish after the answer was streamed
        long deadline = System.nanoTime() + REFETCH_PLACED.toNanos();
        while (gateway.store().blobs().stat(digest).isEmpty()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** The answer of an upstream fetch made only to put the blob into the store. */
    private static final class DiscardingSink implements ResponseSink {
        @Override
        public void status(int status) {
        }

        @Override
        public void header(String name, String value) {
        }

        @Override
        public void contentLength(long length) {
        }

        @Override
        public OutputStream body() {
            return OutputStream.nullOutputStream();
        }
    }
}
