package io.mirrorball.web;

import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.store.UpstreamTags;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** The listing endpoints: {@code /v2/}, tags/list, _catalog and referrers, with n/last pagination. */
final class ListHandler {
    /** Default and largest page for tags and the catalog. */
    static final int MAX_PAGE = 10_000;

    private final RegistryStore store;
    /** The default upstream's name: its repositories are listed as they are, other upstreams' with a prefix. */
    private final String defaultUpstream;

    ListHandler(RegistryStore store, String defaultUpstream) {
        this.store = store;
        this.defaultUpstream = defaultUpstream;
    }

    static void base(Route route, HttpServletResponse response) throws IOException {
        Json.write(response, 200, "application/json", Map.of(), route.isHead());
    }

    void tags(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<String> tags = store.manifests().tags(route.name());
        writeTags(route, request, response, tags);
    }

    /** Writes one page of a sorted tag list, with a Link header to the next page. */
    static void writeTags(Route route, HttpServletRequest request, HttpServletResponse response, List<String> tags)
            throws IOException {
        List<String> page = page(tags, request, response, "/v2/" + route.name() + "/tags/list");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", route.name().value());
        body.put("tags", page);
        Json.write(response, 200, "application/json", body, route.isHead());
    }

    /**
     * Repositories pushed here, and those pulled through whose tags the store keeps: the default
     * upstream's under their own names, another upstream's as {@code <upstream>/<name>} (the spelling
     * a prefix route accepts), in one sorted list.
     */
    void catalog(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        TreeSet<String> names = new TreeSet<>(store.repositories().catalog());
        UpstreamTags kept = store.upstreamTags();
        for (String upstream : kept.upstreams()) {
            for (RepositoryName name : kept.repositories(upstream)) {
                String listed = upstream.equals(defaultUpstream) ? name.value() : upstream + "/" + name.value();
                if (RepositoryName.isValid(listed)) {
                    names.add(listed);
                }
            }
        }
        List<String> page = page(new ArrayList<>(names), request, response, "/v2/_catalog");
        Json.write(response, 200, "application/json", Map.of("repositories", page), route.isHead());
    }

    /** The referrers index; empty (200) for a repository never pushed, as for a subject without referrers. */
    void referrers(Route route, HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<Descriptor> referrers = store.repositories().exists(route.name())
                ? store.manifests().referrers(route.name(), route.digest()) : List.of();
        writeReferrers(route, request, response, referrers);
    }

    /** Writes the referrers index, filtered by {@code ?artifactType=} when asked. */
    static void writeReferrers(Route route, HttpServletRequest request, HttpServletResponse response,
                               List<Descriptor> referrers) throws IOException {
        String artifactType = QueryParameters.get(request, "artifactType");
        List<Map<String, Object>> manifests = new ArrayList<>();
        for (Descriptor d : referrers) {
            if (artifactType != null && !artifactType.equals(d.artifactType())) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("mediaType", d.mediaType());
            entry.put("digest", d.digest().toString());
            entry.put("size", d.size());
            if (d.artifactType() != null) {
                entry.put("artifactType", d.artifactType());
            }
            if (!d.annotations().isEmpty()) {
                entry.put("annotations", d.annotations());
            }
            manifests.add(entry);
        }
        if (artifactType != null) {
            response.setHeader("OCI-Filters-Applied", "artifactType");
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", manifests);
        Json.write(response, 200, MediaTypes.OCI_INDEX, index, route.isHead());
    }

    /** Applies {@code n} and {@code last} to a sorted list, and sets the Link header when more remain. */
    private static List<String> page(List<String> all, HttpServletRequest request, HttpServletResponse response,
                                     String path) {
        String nParam = QueryParameters.get(request, "n");
        String last = QueryParameters.get(request, "last");
        int n = MAX_PAGE;
        if (nParam != null) {
            try {
                n = Integer.parseInt(nParam);
            } catch (NumberFormatException e) {
                throw new OciException(OciErrorCode.PAGINATION_NUMBER_INVALID, "n must be a number: " + nParam);
            }
            if (n < 0) {
                throw new OciException(OciErrorCode.PAGINATION_NUMBER_INVALID, "n must not be negative: " + n);
            }
            n = Math.min(n, MAX_PAGE);
        }
        List<String> after = new ArrayList<>();
        for (String item : all) {
            if (last == null || item.compareTo(last) > 0) {
                after.add(item);
            }
        }
        if (after.size() <= n) {
            return after;
        }
        List<String> page = after.subList(0, n);
        if (n > 0) {
            String next = request.getContextPath() + path + "?n=" + n + "&last="
                    + URLEncoder.encode(page.get(n - 1), StandardCharsets.UTF_8);
            response.setHeader("Link", "<" + next + ">; rel=\"next\"");
        }
        return page;
    }
}
