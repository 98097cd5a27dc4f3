package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class RouteParserTest {

    @ParameterizedTest
    @CsvSource({
            "GET, /v2/, BASE, , ",
            "GET, /v2, BASE, , ",
            "GET, /v2/_catalog, CATALOG, , ",
            "GET, /v2/alpine/manifests/latest, MANIFEST, alpine, latest",
            "PUT, /v2/org/team/app/manifests/v1.2_3-x, MANIFEST, org/team/app, v1.2_3-x",
            "HEAD, /v2/a/manifests/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, MANIFEST, a, sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "GET, /v2/a/b/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, BLOB, a/b, sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "POST, /v2/a/blobs/uploads/, UPLOAD_START, a, ",
            "POST, /v2/a/blobs/uploads, UPLOAD_START, a, ",
            "PATCH, /v2/a/blobs/uploads/0f0e1d2c-1111-2222-3333-444455556666, UPLOAD, a, 0f0e1d2c-1111-2222-3333-444455556666",
            "GET, /v2/my-app/tags/list, TAGS, my-app, ",
            "GET, /v2/x/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, REFERRERS, x, sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            // a repository may itself be named like a resource
            "GET, /v2/manifests/manifests/latest, MANIFEST, manifests, latest",
            "GET, /v2/blobs/tags/list, TAGS, blobs, ",
    })
    void parse_validRoutes(String method, String path, RouteKind kind, String name, String detail) {
        Route route = RouteParser.parse(method, path);
        assertEquals(kind, route.kind());
        if (name == null) {
            assertNull(route.name());
        } else {
            assertEquals(name, route.name().value());
        }
        String actualDetail = switch (kind) {
            case MANIFEST -> route.reference().toString();
            case BLOB, REFERRERS -> route.digest().toString();
            case UPLOAD -> route.uploadId();
            default -> null;
        };
        assertEquals(detail, actualDetail);
    }

    @ParameterizedTest
    @CsvSource({
            "GET, /v2/Upper/manifests/latest, NAME_INVALID",
            "GET, /v2/../etc/manifests/latest, NAME_INVALID",
            "GET, /v2/a/../../b/tags/list, NAME_INVALID",
            "GET, /v2/%2e%2e/manifests/latest, NAME_INVALID",
            "GET, /v2/a%2fb/manifests/latest, NAME_INVALID",
            "GET, /v2/a//b/manifests/latest, NAME_INVALID",
            "GET, /v2/-a/tags/list, NAME_INVALID",
            "GET, /v2/a/manifests/bad:digest, DIGEST_INVALID",
            "GET, /v2/a/manifests/.hidden, MANIFEST_UNKNOWN",
            "HEAD, /v2/a/manifests/-x, MANIFEST_UNKNOWN",
            "DELETE, /v2/a/manifests/a+b, MANIFEST_UNKNOWN",
            "PUT, /v2/a/manifests/.hidden, MANIFEST_INVALID",
            "GET, /v2/a/blobs/sha256:abc, DIGEST_INVALID",
            "GET, /v2/a/blobs/notadigest, DIGEST_INVALID",
            "GET, /v2/a/referrers/sha256:XYZ, DIGEST_INVALID",
            "GET, /v2/a/unknown/thing, NOT_FOUND",
            "GET, /v3/, NOT_FOUND",
            "POST, /v2/a/manifests/latest, METHOD_UNKNOWN",
            "DELETE, /v2/a/tags/list, METHOD_UNKNOWN",
            "PUT, /v2/, METHOD_UNKNOWN",
    })
    void parse_invalidRoutes(String method, String path, OciErrorCode expected) {
        OciException e = assertThrows(OciException.class, () -> RouteParser.parse(method, path));
        assertEquals(expected, e.code());
    }

    @ParameterizedTest
    @CsvSource({"256", "300"})
    void parse_tooLongName(int length) {
        String name = "a".repeat(length);
        OciException e = assertThrows(OciException.class,
                () -> RouteParser.parse("GET", "/v2/" + name + "/tags/list"));
        assertEquals(OciErrorCode.NAME_INVALID, e.code());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v2/library/alpine/manifests/3.19 | ns=docker.io | docker.io",
            "/v2/library/alpine/manifests/3.19 | ns=index.docker.io | docker.io",
            "/v2/library/alpine/manifests/3.19 | ns=registry-1.docker.io | docker.io",
            "/v2/org/app/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 | ns=ghcr.io | ghcr.io",
            "/v2/org/app/tags/list | n=10&ns=Quay.IO | quay.io",
            "/v2/org/app/tags/list | ns=registry.local%3A5000 | registry.local:5000",
            "/v2/org/app/tags/list | ns=registry.local:5000 | registry.local:5000",
            "/v2/org/app/manifests/v1 | n=1 | ",
            "/v2/org/app/manifests/v1 | | ",
            // a malformed escape makes a parameter unreadable: ignored, as every query parameter
            "/v2/org/app/manifests/v1 | ns=%zz | ",
            // the registry-wide endpoints have no name: ns means nothing there
            "/v2/ | ns=docker.io | ",
            "/v2/_catalog | ns=not a host | ",
    })
    void parse_nsQueryParameter(String path, String query, String ns) {
        Route route = RouteParser.parse("GET", path, query);
        assertEquals(ns, route.namespace().map(h -> h.name()).orElse(null));
    }

    @ParameterizedTest
    @CsvSource({"ns=", "ns=bad%20host", "ns=-x.io", "ns=host:99999", "ns=a/b"})
    void parse_nsNotARegistryHost_nameInvalid(String query) {
        OciException e = assertThrows(OciException.class,
                () -> RouteParser.parse("GET", "/v2/org/app/manifests/v1", query));
        assertEquals(OciErrorCode.NAME_INVALID, e.code());
        assertTrue(e.getMessage().contains("is not a registry host"), e.getMessage());
    }
}
