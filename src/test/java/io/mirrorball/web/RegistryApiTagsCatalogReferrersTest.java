package io.mirrorball.web;

import static io.mirrorball.web.RegistryClient.assertOciError;
import static io.mirrorball.web.RegistryClient.describe;
import static io.mirrorball.web.RegistryClient.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mirrorball.oci.MediaTypes;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tags/list, _catalog and the referrers API (distribution-spec v1.1 end-8, end-12, _catalog extension). */
final class RegistryApiTagsCatalogReferrersTest {
    private static final Pattern NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final String SBOM = "application/vnd.example.sbom.v1";
    private static final String SIGNATURE = "application/vnd.example.signature.v1";

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private RegistryClient client;

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp);
        client = gateway.client();
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> list.add(n.asText()));
        }
        return list;
    }

    private static Map<String, String> query(String pathAndQuery) {
        Map<String, String> params = new HashMap<>();
        int q = pathAndQuery.indexOf('?');
        if (q >= 0) {
            for (String pair : pathAndQuery.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                params.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return params;
    }

    /** The path and query of the Link rel="next" header, or null when there is none. */
    private String nextLink(HttpResponse<byte[]> r) {
        String link = header(r, "Link");
        if (link == null) {
            return null;
        }
        Matcher m = NEXT.matcher(link);
        assertTrue(m.find(), "Link header has the form <url>; rel=\"next\": " + link);
        return client.pathOf(m.group(1));
    }

    private List<String> pushTags(String repo, List<String> tags) {
        TestImages.Image image = TestImages.ociImage(1);
        image.blobs().forEach(b -> client.pushBlob(repo, b.content()));
        for (String tag : tags) {
            client.pushManifest(repo, tag, image.manifest(), image.mediaType());
        }
        return tags.stream().sorted().toList();
    }

    // ---- tags/list --------------------------------------------------------------------------

    @Test
    void tagsList_all_sortedWithName() {
        List<String> sorted = pushTags("tg/all", List.of("v2", "v10", "latest", "1.0", "zeta", "alpha", "beta", "v1-rc"));

        HttpResponse<byte[]> r = client.get("/v2/tg/all/tags/list");

        assertEquals(200, r.statusCode(), describe(r));
        assertTrue(header(r, "Content-Type").startsWith("application/json"), describe(r));
        JsonNode body = RegistryClient.json(r);
        assertEquals("tg/all", body.get("name").asText());
        assertEquals(List.of("1.0", "alpha", "beta", "latest", "v1-rc", "v10", "v2", "zeta"), strings(body.get("tags")));
        assertEquals(sorted, strings(body.get("tags")));
        assertNull(header(r, "Link"), "no Link without pagination");
    }

    @Test
    void tagsList_paginated_linkHeaderChainsAllPages() {
        List<String> sorted = pushTags("tg/pages", List.of("e", "a", "d", "g", "c", "b", "f"));
        List<String> seen = new ArrayList<>();
        String path = "/v2/tg/pages/tags/list?n=3";
        int pages = 0;

        while (path != null) {
            HttpResponse<byte[]> r = client.get(path);
            assertEquals(200, r.statusCode(), describe(r));
            List<String> page = strings(RegistryClient.json(r).get("tags"));
            assertTrue(page.size() <= 3, "page size " + page);
            seen.addAll(page);
            path = nextLink(r);
            if (path != null) {
                assertEquals(3, page.size(), "a page followed by another page is full");
                assertTrue(path.startsWith("/v2/tg/pages/tags/list?"), "Link target " + path);
                Map<String, String> q = query(path);
                assertEquals("3", q.get("n"), "Link keeps n: " + path);
                assertEquals(page.get(page.size() - 1), q.get("last"), "Link last is the last tag of the page: " + path);
            }
            pages++;
            assertTrue(pages <= 4, "pagination terminates");
        }

        assertEquals(sorted, seen);
        assertEquals(3, pages);
    }

    @Test
    void tagsList_firstPage_exactLinkHeader() {
        pushTags("tg/link", List.of("a", "b", "c"));

        HttpResponse<byte[]> r = client.get("/v2/tg/link/tags/list?n=2");

        assertEquals(List.of("a", "b"), strings(RegistryClient.json(r).get("tags")));
        String link = header(r, "Link");
        assertNotNull(link, "Link header");
        assertTrue(link.matches("<(http://[^/]+)?/v2/tg/link/tags/list\\?n=2&last=b>; rel=\"next\""), "Link " + link);
    }

    @Test
    void tagsList_lastWithoutN_tagsAfterLast() {
        pushTags("tg/last", List.of("a", "b", "c", "d"));

        HttpResponse<byte[]> r = client.get("/v2/tg/last/tags/list?last=b");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(List.of("c", "d"), strings(RegistryClient.json(r).get("tags")));
    }

    @Test
    void tagsList_lastNotATag_tagsAfterItLexically() {
        pushTags("tg/between", List.of("a", "c", "e"));

        HttpResponse<byte[]> r = client.get("/v2/tg/between/tags/list?n=5&last=b");

        assertEquals(List.of("c", "e"), strings(RegistryClient.json(r).get("tags")));
        assertNull(header(r, "Link"));
    }

    @Test
    void tagsList_lastAfterEverything_emptyNoLink() {
        pushTags("tg/past", List.of("a", "b"));

        HttpResponse<byte[]> r = client.get("/v2/tg/past/tags/list?n=2&last=zzz");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(List.of(), strings(RegistryClient.json(r).get("tags")));
        assertNull(header(r, "Link"));
    }

    @Test
    void tags_mixedCaseAndSeparators_roundTrip() {
        List<String> tags = List.of("V1_Final", "_hidden", "A", "a", "1.0-RC.2", "x".repeat(128));
        TestImages.Image image = TestImages.ociImage(1);
        image.blobs().forEach(b -> client.pushBlob("tg/case", b.content()));
        for (String tag : tags) {
            client.pushManifest("tg/case", tag, image.manifest(), image.mediaType());
        }

        for (String tag : tags) {
            HttpResponse<byte[]> r = client.get("/v2/tg/case/manifests/" + tag);
            assertEquals(200, r.statusCode(), describe(r));
            assertEquals(image.digest(), header(r, "Docker-Content-Digest"));
        }
        List<String> listed = strings(RegistryClient.json(client.get("/v2/tg/case/tags/list")).get("tags"));
        assertEquals(tags.stream().sorted(String.CASE_INSENSITIVE_ORDER).toList().size(), listed.size(), listed.toString());
        assertTrue(listed.containsAll(tags), listed.toString());
        assertTrue(listed.equals(tags.stream().sorted().toList())
                || listed.equals(tags.stream().sorted(String.CASE_INSENSITIVE_ORDER).toList()), "sorted: " + listed);
    }

    @Test
    void tagsList_nZero_emptyNoLink() {
        pushTags("tg/zero", List.of("a", "b"));

        HttpResponse<byte[]> r = client.get("/v2/tg/zero/tags/list?n=0");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(List.of(), strings(RegistryClient.json(r).get("tags")));
        assertNull(header(r, "Link"), "n=0 MUST NOT have a Link header");
    }

    @Test
    void tagsList_nLargerThanCount_allNoLink() {
        pushTags("tg/large", List.of("b", "a"));

        HttpResponse<byte[]> r = client.get("/v2/tg/large/tags/list?n=100");

        assertEquals(List.of("a", "b"), strings(RegistryClient.json(r).get("tags")));
        assertNull(header(r, "Link"));
    }

    @Test
    void tagsList_nExactlyCount_noDanglingEmptyPage() {
        pushTags("tg/exact", List.of("a", "b"));

        HttpResponse<byte[]> r = client.get("/v2/tg/exact/tags/list?n=2");

        assertEquals(List.of("a", "b"), strings(RegistryClient.json(r).get("tags")));
        String next = nextLink(r);
        if (next != null) {
            HttpResponse<byte[]> after = client.get(next);
            assertEquals(200, after.statusCode(), describe(after));
            assertEquals(List.of(), strings(RegistryClient.json(after).get("tags")));
        }
    }

    @Test
    void tagsList_badN_400() {
        pushTags("tg/badn", List.of("a"));

        for (String n : List.of("-1", "abc", "1.5")) {
            HttpResponse<byte[]> r = client.get("/v2/tg/badn/tags/list?n=" + n);
            assertEquals(400, r.statusCode(), describe(r));
            RegistryClient.assertErrorBody(r);
        }
    }

    @Test
    void tagsList_unknownRepository_404NameUnknown() {
        assertOciError(client.get("/v2/tg/never-pushed/tags/list"), 404, "NAME_UNKNOWN");
    }

    @Test
    void tagsList_blobsOnly_emptyOr404() {
        client.pushBlob("tg/blobsonly", RegistryClient.randomBytes(10));

        HttpResponse<byte[]> r = client.get("/v2/tg/blobsonly/tags/list");

        if (r.statusCode() == 200) {
            assertEquals(List.of(), strings(RegistryClient.json(r).get("tags")));
        } else {
            assertOciError(r, 404, "NAME_UNKNOWN");
        }
    }

    @Test
    void tagsList_namespacedName_nameEchoed() {
        pushTags("org/team/app", List.of("x"));

        JsonNode body = RegistryClient.json(client.get("/v2/org/team/app/tags/list"));

        assertEquals("org/team/app", body.get("name").asText());
        assertEquals(List.of("x"), strings(body.get("tags")));
    }

    // ---- _catalog ---------------------------------------------------------------------------

    @Test
    void catalog_paginated_sortedAndChained() {
        List<String> names = List.of("cat/b", "cat/a", "cat/c/d", "zz", "aa/bb", "cat/a-b");
        for (String name : names) {
            pushTags(name, List.of("v1"));
        }

        HttpResponse<byte[]> all = client.get("/v2/_catalog");
        assertEquals(200, all.statusCode(), describe(all));
        assertTrue(header(all, "Content-Type").startsWith("application/json"), describe(all));
        List<String> full = strings(RegistryClient.json(all).get("repositories"));
        assertEquals(full.stream().sorted().toList(), full, "catalog is sorted");
        assertEquals(names.stream().sorted().toList(), full.stream().filter(names::contains).toList());

        List<String> seen = new ArrayList<>();
        String path = "/v2/_catalog?n=2";
        int pages = 0;
        while (path != null) {
            HttpResponse<byte[]> r = client.get(path);
            assertEquals(200, r.statusCode(), describe(r));
            List<String> page = strings(RegistryClient.json(r).get("repositories"));
            assertTrue(page.size() <= 2, "page " + page);
            seen.addAll(page);
            path = nextLink(r);
            if (path != null) {
                assertTrue(path.startsWith("/v2/_catalog?"), "Link target " + path);
                assertEquals("2", query(path).get("n"));
                assertEquals(page.get(page.size() - 1), query(path).get("last"));
            }
            assertTrue(++pages <= full.size() + 1, "pagination terminates");
        }
        assertEquals(full, seen, "pages put together are the whole catalog");
    }

    @Test
    void catalog_nAndLast_startsAfterLast() {
        for (String name : List.of("q1", "q2", "q3", "q4")) {
            pushTags(name, List.of("v1"));
        }

        HttpResponse<byte[]> r = client.get("/v2/_catalog?n=2&last=q1");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(List.of("q2", "q3"), strings(RegistryClient.json(r).get("repositories")));
        assertEquals("/v2/_catalog?n=2&last=q3", nextLink(r));
    }

    @Test
    void catalog_nZero_empty() {
        pushTags("c0", List.of("v1"));

        HttpResponse<byte[]> r = client.get("/v2/_catalog?n=0");

        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(List.of(), strings(RegistryClient.json(r).get("repositories")));
        assertNull(header(r, "Link"));
    }

    // ---- referrers --------------------------------------------------------------------------

    private TestImages.Image pushArtifact(String repo, TestImages.Image artifact, String subjectDigest) {
        artifact.blobs().forEach(b -> client.pushBlob(repo, b.content()));
        HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + artifact.digest(), artifact.manifest(),
                artifact.mediaType());
        assertEquals(201, r.statusCode(), describe(r));
        assertEquals(subjectDigest, header(r, "OCI-Subject"), "PUT of a manifest with a subject answers OCI-Subject");
        return artifact;
    }

    private static Map<String, JsonNode> byDigest(JsonNode index) {
        Map<String, JsonNode> map = new HashMap<>();
        index.get("manifests").forEach(d -> map.put(d.get("digest").asText(), d));
        return map;
    }

    private void assertIndex(HttpResponse<byte[]> r) {
        assertEquals(200, r.statusCode(), describe(r));
        assertEquals(MediaTypes.OCI_INDEX, header(r, "Content-Type"));
        JsonNode body = RegistryClient.json(r);
        assertEquals(2, body.get("schemaVersion").asInt());
        assertEquals(MediaTypes.OCI_INDEX, body.get("mediaType").asText());
        assertTrue(body.get("manifests").isArray(), describe(r));
    }

    @Test
    void referrers_listsManifestsWithSubject() {
        TestImages.Image subject = client.pushImage("rf/app", "v1", 1);
        TestImages.Image sbom = pushArtifact("rf/app",
                TestImages.artifact(subject, SBOM, Map.of("org.example.k", "v1", "org.opencontainers.image.created",
                        "2024-01-01T00:00:00Z"), null), subject.digest());
        TestImages.Image signature = pushArtifact("rf/app", TestImages.artifact(subject, SIGNATURE, null, null),
                subject.digest());
        TestImages.Image configTyped = pushArtifact("rf/app",
                TestImages.artifact(subject, null, null, "application/vnd.example.config.v1+json"), subject.digest());
        TestImages.Image unrelated = client.pushImage("rf/app", "other", 1);

        HttpResponse<byte[]> r = client.get("/v2/rf/app/referrers/" + subject.digest());

        assertIndex(r);
        assertNull(header(r, "OCI-Filters-Applied"), "no filter header without a filter");
        Map<String, JsonNode> found = byDigest(RegistryClient.json(r));
        assertEquals(3, found.size(), describe(r));
        assertFalse(found.containsKey(unrelated.digest()));
        JsonNode s = found.get(sbom.digest());
        assertNotNull(s, describe(r));
        assertEquals(MediaTypes.OCI_MANIFEST, s.get("mediaType").asText());
        assertEquals(sbom.size(), s.get("size").asLong());
        assertEquals(SBOM, s.get("artifactType").asText());
        assertEquals("v1", s.get("annotations").get("org.example.k").asText());
        assertEquals("2024-01-01T00:00:00Z", s.get("annotations").get("org.opencontainers.image.created").asText());
        assertEquals(SIGNATURE, found.get(signature.digest()).get("artifactType").asText());
        assertEquals("application/vnd.example.config.v1+json", found.get(configTyped.digest()).get("artifactType").asText(),
                "without artifactType, the config media type is the artifact type");
    }

    @Test
    void referrers_artifactTypeFilter_filteredWithHeader() {
        TestImages.Image subject = client.pushImage("rf/filter", "v1", 1);
        TestImages.Image sbom = pushArtifact("rf/filter", TestImages.artifact(subject, SBOM, null, null), subject.digest());
        pushArtifact("rf/filter", TestImages.artifact(subject, SIGNATURE, null, null), subject.digest());

        HttpResponse<byte[]> r = client.get("/v2/rf/filter/referrers/" + subject.digest() + "?artifactType="
                + URLEncoder.encode(SBOM, StandardCharsets.UTF_8));

        assertIndex(r);
        assertEquals("artifactType", header(r, "OCI-Filters-Applied"));
        Map<String, JsonNode> found = byDigest(RegistryClient.json(r));
        assertEquals(List.of(sbom.digest()), List.copyOf(found.keySet()));
    }

    @Test
    void referrers_filterMatchingNothing_emptyWithHeader() {
        TestImages.Image subject = client.pushImage("rf/none", "v1", 1);
        pushArtifact("rf/none", TestImages.artifact(subject, SBOM, null, null), subject.digest());

        HttpResponse<byte[]> r = client.get("/v2/rf/none/referrers/" + subject.digest()
                + "?artifactType=application/vnd.example.absent");

        assertIndex(r);
        assertEquals("artifactType", header(r, "OCI-Filters-Applied"));
        assertEquals(0, RegistryClient.json(r).get("manifests").size());
    }

    @Test
    void referrers_noReferrers_emptyIndex200() {
        TestImages.Image subject = client.pushImage("rf/empty", "v1", 1);

        HttpResponse<byte[]> r = client.get("/v2/rf/empty/referrers/" + subject.digest());

        assertIndex(r);
        assertEquals(0, RegistryClient.json(r).get("manifests").size());
    }

    @Test
    void referrers_unknownDigest_emptyIndex200() {
        client.pushImage("rf/unknown", "v1", 1);

        HttpResponse<byte[]> r = client.get("/v2/rf/unknown/referrers/" + RegistryClient.digestOf(new byte[7]));

        assertIndex(r);
        assertEquals(0, RegistryClient.json(r).get("manifests").size());
    }

    /** Issue 9: referrers of a repository that was never pushed answered 404 instead of an empty index. */
    @Test
    void referrers_repositoryNeverPushed_emptyIndex200() {
        HttpResponse<byte[]> r = client.get("/v2/rf/never-pushed/referrers/" + RegistryClient.digestOf(new byte[7]));

        assertIndex(r);
        assertEquals(0, RegistryClient.json(r).get("manifests").size());
    }

    @Test
    void referrers_subjectNotPushed_acceptedAndListed() {
        String missing = RegistryClient.digestOf(RegistryClient.randomBytes(50));
        client.pushImage("rf/dangling", "v1", 1);
        TestImages.Image artifact = TestImages.artifact(TestImages.descriptor(MediaTypes.OCI_MANIFEST, missing, 50),
                SBOM, null, null);

        pushArtifact("rf/dangling", artifact, missing);

        HttpResponse<byte[]> r = client.get("/v2/rf/dangling/referrers/" + missing);
        assertIndex(r);
        assertEquals(List.of(artifact.digest()), List.copyOf(byDigest(RegistryClient.json(r)).keySet()));
    }

    @Test
    void referrers_pushedByTag_stillListed() {
        TestImages.Image subject = client.pushImage("rf/bytag", "v1", 1);
        TestImages.Image artifact = TestImages.artifact(subject, SBOM, null, null);
        artifact.blobs().forEach(b -> client.pushBlob("rf/bytag", b.content()));

        HttpResponse<byte[]> put = client.put("/v2/rf/bytag/manifests/sbom", artifact.manifest(), artifact.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(subject.digest(), header(put, "OCI-Subject"));
        assertTrue(byDigest(RegistryClient.json(client.get("/v2/rf/bytag/referrers/" + subject.digest())))
                .containsKey(artifact.digest()));
    }

    @Test
    void referrers_indexWithSubject_listedAsIndex() {
        TestImages.Image subject = client.pushImage("rf/idx", "v1", 1);
        TestImages.Image child = client.pushImage("rf/idx", "child", 1);
        TestImages.Image index = TestImages.index(MediaTypes.OCI_INDEX, List.of(child),
                "   \"artifactType\": \"" + SBOM + "\",\n   \"subject\": " + subject.descriptor() + ",\n");

        HttpResponse<byte[]> put = client.put("/v2/rf/idx/manifests/" + index.digest(), index.manifest(), index.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertEquals(subject.digest(), header(put, "OCI-Subject"));
        JsonNode listed = byDigest(RegistryClient.json(client.get("/v2/rf/idx/referrers/" + subject.digest())))
                .get(index.digest());
        assertNotNull(listed, "the index is a referrer");
        assertEquals(MediaTypes.OCI_INDEX, listed.get("mediaType").asText());
        assertEquals(SBOM, listed.get("artifactType").asText());
    }

    @Test
    void referrers_manifestWithoutSubject_noOciSubjectHeader() {
        TestImages.Image image = TestImages.ociImage(1);
        image.blobs().forEach(b -> client.pushBlob("rf/nosubject", b.content()));

        HttpResponse<byte[]> put = client.put("/v2/rf/nosubject/manifests/v1", image.manifest(), image.mediaType());

        assertEquals(201, put.statusCode(), describe(put));
        assertNull(header(put, "OCI-Subject"));
    }

    @Test
    void referrers_deletedReferrer_notListed() {
        TestImages.Image subject = client.pushImage("rf/del", "v1", 1);
        TestImages.Image keep = pushArtifact("rf/del", TestImages.artifact(subject, SBOM, null, null), subject.digest());
        TestImages.Image drop = pushArtifact("rf/del", TestImages.artifact(subject, SIGNATURE, null, null), subject.digest());

        assertEquals(202, client.delete("/v2/rf/del/manifests/" + drop.digest()).statusCode());

        Map<String, JsonNode> found = byDigest(RegistryClient.json(client.get("/v2/rf/del/referrers/" + subject.digest())));
        assertEquals(List.of(keep.digest()), List.copyOf(found.keySet()));
    }

    @Test
    void referrers_otherRepository_notListed() {
        TestImages.Image subject = client.pushImage("rf/iso-a", "v1", 1);
        subject.blobs().forEach(b -> client.pushBlob("rf/iso-b", b.content()));
        client.pushManifest("rf/iso-b", "v1", subject.manifest(), subject.mediaType());
        pushArtifact("rf/iso-a", TestImages.artifact(subject, SBOM, null, null), subject.digest());

        HttpResponse<byte[]> r = client.get("/v2/rf/iso-b/referrers/" + subject.digest());

        assertIndex(r);
        assertEquals(0, RegistryClient.json(r).get("manifests").size());
    }

    @Test
    void referrers_badDigest_400DigestInvalid() {
        client.pushImage("rf/bad", "v1", 1);

        assertOciError(client.get("/v2/rf/bad/referrers/sha256:abc"), 400, "DIGEST_INVALID");
        HttpResponse<byte[]> tag = client.get("/v2/rf/bad/referrers/v1");
        assertEquals(400, tag.statusCode(), "referrers of a tag: " + describe(tag));
    }
}
