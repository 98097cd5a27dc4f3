package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.credentials.Credentials;
import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.RateLimitedException;
import io.mirrorball.migrate.source.BlobStream;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.testing.DockerRegistry;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.TestTokenIssuer;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SourceClient} against Debian's docker-registry (anonymous, htpasswd, token auth), and FakeUpstream for faults. */
final class SourceClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SourceClient.Settings SETTINGS = new SourceClient.Settings(Duration.ofSeconds(2),
            Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(20), 8);

    @TempDir
    Path tmp;

    private static Function<String, Supplier<Credentials>> as(Credentials credentials) {
        return repository -> () -> credentials;
    }

    private OciLayoutBuilder.Image image(String name, long seed) {
        return OciLayoutBuilder.at(tmp.resolve(name)).seed(seed).layer(300_000, true).layer(5000, true).build("v1");
    }

    private static byte[] layoutBlob(OciLayoutBuilder.Image image, Digest digest) throws Exception {
        return Files.readAllBytes(image.dir().resolve("blobs/sha256/" + digest.hex()));
    }

    private static List<String> sorted(List<String> names) {
        return names.stream().sorted().toList();
    }

    private static byte[] readAll(InputStream in) throws Exception {
        try (in) {
            return in.readAllBytes();
        }
    }

    @Test
    void manifestAndBlob_anonymousRegistry_bytesAsPushedAndRangeFromOffset() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 1);
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             SourceClient client = SourceClient.open(registry.uri(), repository -> () -> {
                 lookups.incrementAndGet();
                 return Credentials.ANONYMOUS;
             }, SETTINGS)) {
            Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/org/app:v1");
            assertEquals(registry.hostPort(), client.registry());

            Fetched byTag = client.manifest("org/app", Reference.ofTag("v1"));
            assertEquals(image.manifestDigest(), byTag.digest());
            assertEquals(MediaTypes.OCI_MANIFEST, byTag.mediaType());
            assertArrayEquals(layoutBlob(image, image.manifestDigest()), byTag.bytes());
            Fetched byDigest = client.manifest("org/app", Reference.ofDigest(image.manifestDigest()));
            assertArrayEquals(byTag.bytes(), byDigest.bytes());
            assertTrue(client.rateLimit().isEmpty(), "docker-registry states no pull limit");

            OciLayoutBuilder.Blob layer = image.layers().get(0);
            byte[] expected = layoutBlob(image, layer.digest());
            Descriptor descriptor = Descriptor.of(layer.mediaType(), layer.digest(), layer.size());
            try (BlobStream whole = client.blob("org/app", descriptor, 0)) {
                assertEquals(0, whole.offset());
                assertArrayEquals(expected, readAll(whole.in()));
            }
            try (BlobStream rest = client.blob("org/app", descriptor, 123_456)) {
                assertEquals(123_456, rest.offset(), "the registry answered 206");
                assertArrayEquals(Arrays.copyOfRange(expected, 123_456, expected.length), readAll(rest.in()));
            }
            try (BlobStream abandoned = client.blob("org/app", descriptor, 0)) {
                assertEquals(expected[0], (byte) abandoned.in().read(), "closing early drops the connection only");
            }
            assertEquals(image.manifestDigest(), client.manifest("org/app", Reference.ofTag("v1")).digest());
            assertEquals(0, lookups.get(), "credentials are looked up only when the registry asks for them");
        }
    }

    @Test
    void manifest_unknownTagOrRepository_notFoundNamingTheImage() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 2);
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             SourceClient client = SourceClient.open(registry.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
            Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            MigrateException tag = assertThrows(MigrateException.class,
                    () -> client.manifest("app", Reference.ofTag("v2")));
            assertEquals(FailureKind.NOT_FOUND, tag.kind());
            assertTrue(tag.getMessage().contains("app:v2"), tag.getMessage());
            assertFalse(tag.getMessage().contains(registry.hostPort()), tag.getMessage());
            MigrateException repo = assertThrows(MigrateException.class, () -> client.tags("nothing", 10));
            assertEquals(FailureKind.NOT_FOUND, repo.kind());
        }
    }

    @Test
    void tagsAndCatalog_pageSizeTwo_followLinkPages() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 3);
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             SourceClient client = SourceClient.open(registry.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
            List<String> pushed = List.of("1.0.0", "1.1.0", "2.0.0", "latest", "v1");
            for (String tag : pushed) {
                skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:" + tag);
            }
            skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/org/tools:v1");
            skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/zeta:v1");

            // distribution 2.8 lists tags in one page, in no particular order, whatever n says
            assertEquals(pushed, sorted(client.tags("app", 2)));
            // it pages the catalog: 3 repositories in pages of 2 need the Link to the second page
            HttpResponse<String> first = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    registry.uri().resolve("/v2/_catalog?n=2")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(2, JSON.readTree(first.body()).get("repositories").size());
            assertTrue(first.headers().firstValue("Link").orElse("").contains("rel=\"next\""));
            assertEquals(List.of("app", "org/tools", "zeta"), client.catalog(2));
            assertEquals(List.of("app", "org/tools", "zeta"), client.catalog(1));
            assertEquals(pushed, sorted(client.tags("app", 1000)));
        }
    }

    @Test
    void referrers_registryWithoutTheApi_fallsBackToTheDigestTag() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 4);
        OciLayoutBuilder.MultiArch referrers = OciLayoutBuilder.at(tmp.resolve("layout-multi")).seed(5)
                .layer(1000, true).buildMultiArch("v1");
        try (DockerRegistry registry = DockerRegistry.start(tmp.resolve("registry"));
             SourceClient client = SourceClient.open(registry.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
            Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
            skopeo.copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            assertEquals(List.of(), client.referrers("app", image.manifestDigest()));

            skopeo.copyAll(referrers.skopeoRef(), "docker://" + registry.hostPort() + "/app:sha256-"
                    + image.manifestDigest().hex());
            List<Digest> found = client.referrers("app", image.manifestDigest()).stream().map(Descriptor::digest)
                    .toList();
            assertEquals(referrers.platforms().stream().map(OciLayoutBuilder.Image::manifestDigest).toList(), found);
        }
    }

    @Test
    void htpasswd_credentialsOrNot_pullOrDenied() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 6);
        try (DockerRegistry registry = DockerRegistry.builder(tmp.resolve("registry")).htpasswd("alice", "s3cret")
                .start()) {
            Skopeo.in(tmp.resolve("skopeo")).login(registry.hostPort(), "alice", "s3cret")
                    .copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/app:v1");
            List<String> asked = new ArrayList<>();
            try (SourceClient client = SourceClient.open(registry.uri(), repository -> () -> {
                asked.add(repository);
                return new Credentials.Basic("alice", "s3cret");
            }, SETTINGS)) {
                assertEquals(image.manifestDigest(), client.manifest("app", Reference.ofTag("v1")).digest());
                assertEquals(List.of("v1"), client.tags("app", 10));
                assertEquals(List.of("app"), asked.stream().distinct().toList(), "asked for the repository's credentials");
            }
            try (SourceClient client = SourceClient.open(registry.uri(), as(new Credentials.Basic("alice", "wrong")),
                    SETTINGS)) {
                MigrateException denied = assertThrows(MigrateException.class,
                        () -> client.manifest("app", Reference.ofTag("v1")));
                assertEquals(FailureKind.DENIED, denied.kind());
                assertTrue(denied.getMessage().contains("app:v1") && denied.getMessage().contains("alice"),
                        denied.getMessage());
                assertFalse(denied.getMessage().contains("wrong"), "never the password: " + denied.getMessage());
            }
            try (SourceClient client = SourceClient.open(registry.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
                MigrateException denied = assertThrows(MigrateException.class,
                        () -> client.manifest("app", Reference.ofTag("v1")));
                assertEquals(FailureKind.DENIED, denied.kind());
                assertTrue(denied.getMessage().contains("anonymous"), denied.getMessage());
            }
        }
    }

    @Test
    void tokenAuth_basicIdentityAndRegistryTokens_pull() throws Exception {
        OciLayoutBuilder.Image image = image("layout", 7);
        try (TestTokenIssuer issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "bob", "hunter2")) {
            DockerRegistry.Builder builder = DockerRegistry.builder(tmp.resolve("registry"));
            issuer.registryEnv().forEach(builder::env);
            try (DockerRegistry registry = builder.start()) {
                Skopeo.in(tmp.resolve("skopeo")).login(registry.hostPort(), "bob", "hunter2")
                        .copy(image.skopeoRef(), "docker://" + registry.hostPort() + "/org/app:v1");

                int before = issuer.issued();
                try (SourceClient client = SourceClient.open(registry.uri(),
                        as(new Credentials.Basic("bob", "hunter2")), SETTINGS)) {
                    assertEquals(image.manifestDigest(), client.manifest("org/app", Reference.ofTag("v1")).digest());
                    assertEquals(List.of("v1"), client.tags("org/app", 10));
                }
                assertEquals(before + 1, issuer.issued(), "one token for repository:org/app:pull");

                issuer.acceptRefreshToken("refresh-123");
                try (SourceClient client = SourceClient.open(registry.uri(),
                        as(new Credentials.IdentityToken("refresh-123")), SETTINGS)) {
                    assertEquals(image.manifestDigest(), client.manifest("org/app", Reference.ofTag("v1")).digest());
                }
                Map<String, String> form = issuer.lastForm();
                assertEquals("refresh_token", form.get("grant_type"));
                assertEquals("mirrorball", form.get("client_id"));
                assertEquals("repository:org/app:pull", form.get("scope"));
                assertEquals(TestTokenIssuer.SERVICE, form.get("service"));

                try (SourceClient client = SourceClient.open(registry.uri(),
                        as(new Credentials.IdentityToken("not-it")), SETTINGS)) {
                    MigrateException denied = assertThrows(MigrateException.class,
                            () -> client.manifest("org/app", Reference.ofTag("v1")));
                    assertEquals(FailureKind.DENIED, denied.kind());
                    assertFalse(denied.getMessage().contains("not-it"), denied.getMessage());
                }

                String token = token(issuer, "repository:org/app:pull");
                int issued = issuer.issued();
                try (SourceClient client = SourceClient.open(registry.uri(),
                        as(new Credentials.RegistryToken(token)), SETTINGS)) {
                    assertEquals(image.manifestDigest(), client.manifest("org/app", Reference.ofTag("v1")).digest());
                }
                assertEquals(issued, issuer.issued(), "a registry token is sent as it is");
            }
        }
    }

    private static String token(TestTokenIssuer issuer, String scope) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create(issuer.realm() + "?service=" + TestTokenIssuer.SERVICE + "&scope="
                + URLEncoder.encode(scope, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        "bob:hunter2".getBytes(StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return JSON.readTree(response.body()).get("token").asText();
    }

    @Test
    void tags_linkPagesOnTheSameOrigin_followedInOrder() throws Exception {
        // distribution 2.8 does not page tags: the pages come from FakeUpstream
        try (FakeUpstream fake = FakeUpstream.start()) {
            fake.on("/v2/org/app/tags/list", (method, socket, out) -> {
                int call = fake.count("/v2/org/app/tags/list");
                String body = call == 1 ? "{\"name\":\"org/app\",\"tags\":[\"a\",\"b\"]}"
                        : call == 2 ? "{\"name\":\"org/app\",\"tags\":[\"c\",\"d\"]}"
                        : "{\"name\":\"org/app\",\"tags\":[\"e\"]}";
                Map<String, String> headers = call == 1
                        ? Map.of("Link", "</v2/org/app/tags/list?n=2&last=b>; rel=\"next\"")
                        : call == 2 ? Map.of("Link", "<" + fake.uri() + "/v2/org/app/tags/list?n=2&last=d>; rel=\"next\"")
                        : Map.of();
                Map<String, String> all = new java.util.HashMap<>(headers);
                all.put("Content-Type", "application/json");
                FakeUpstream.respond(out, 200, all, body.getBytes(StandardCharsets.UTF_8));
            });
            try (SourceClient client = SourceClient.open(fake.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
                java.util.Iterator<String> lazy = client.listTags("org/app", 2);
                assertEquals("a", lazy.next());
                assertEquals(1, fake.count("/v2/org/app/tags/list"), "one page at a time");
                List<String> rest = new ArrayList<>();
                lazy.forEachRemaining(rest::add);
                assertEquals(List.of("b", "c", "d", "e"), rest);
                assertEquals(3, fake.count("/v2/org/app/tags/list"));
            }
        }
    }

    @Test
    void manifest_closedPort_unreachable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (SourceClient client = SourceClient.open(URI.create("http://127.0.0.1:" + port),
                as(Credentials.ANONYMOUS), SETTINGS)) {
            MigrateException e = assertThrows(MigrateException.class,
                    () -> client.manifest("app", Reference.ofTag("v1")));
            assertEquals(FailureKind.UNREACHABLE, e.kind());
            assertFalse(e.getMessage().contains("127.0.0.1"), e.getMessage());
            MigrateException list = assertThrows(MigrateException.class, () -> client.catalog(10));
            assertEquals(FailureKind.UNREACHABLE, list.kind());
        }
    }

    @Test
    void faults_429RateLimitHeadersAndRangeIgnored() throws Exception {
        byte[] manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}"
                .getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.ofBytes(manifest);
        byte[] blob = "0123456789".getBytes(StandardCharsets.UTF_8);
        Digest blobDigest = Digest.ofBytes(blob);
        try (FakeUpstream fake = FakeUpstream.start()) {
            fake.on("/v2/app/manifests/busy", (method, socket, out) -> FakeUpstream.respond(out, 429,
                    Map.of("Retry-After", "7", "Content-Type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8)));
            fake.on("/v2/app/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 200, Map.of(
                    "Content-Type", MediaTypes.OCI_MANIFEST, "Docker-Content-Digest", digest.toString(),
                    "ratelimit-limit", "100;w=21600", "ratelimit-remaining", "7;w=21600",
                    "docker-ratelimit-source", "192.0.2.1"), manifest));
            fake.on("/v2/app/blobs/" + blobDigest, (method, socket, out) -> FakeUpstream.respond(out, 200,
                    Map.of("Content-Type", "application/octet-stream"), blob));
            fake.on("/v2/app/tags/list", (method, socket, out) -> FakeUpstream.respond(out, 200, Map.of(
                    "Content-Type", "application/json", "Link", "<http://other.example/v2/app/tags/list?n=1>; rel=\"next\""),
                    "{\"name\":\"app\",\"tags\":[\"v1\"]}".getBytes(StandardCharsets.UTF_8)));
            try (SourceClient client = SourceClient.open(fake.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
                RateLimitedException limited = assertThrows(RateLimitedException.class,
                        () -> client.manifest("app", Reference.ofTag("busy")));
                assertEquals(FailureKind.RATE_LIMITED, limited.kind());
                assertEquals(Optional.of(Duration.ofSeconds(7)), limited.retryAfter());

                assertEquals(digest, client.manifest("app", Reference.ofTag("v1")).digest());
                RateLimitInfo info = client.rateLimit().orElseThrow();
                assertEquals(new RateLimitInfo(100, 7, Duration.ofSeconds(21600), java.util.Optional.of("192.0.2.1")),
                        info);
                assertTrue(info.low());

                try (BlobStream stream = client.blob("app", Descriptor.of("application/octet-stream", blobDigest,
                        blob.length), 4)) {
                    assertEquals(0, stream.offset(), "a 200 to a Range request starts at 0");
                    assertArrayEquals(blob, readAll(stream.in()));
                }
                assertEquals("bytes=4-", fake.lastHeaders("/v2/app/blobs/" + blobDigest).get("range"));

                MigrateException foreign = assertThrows(MigrateException.class, () -> client.tags("app", 1));
                assertEquals(FailureKind.INVALID_SOURCE, foreign.kind(), "a next page on another host is refused");
                assertFalse(foreign.getMessage().contains("other.example"), foreign.getMessage());
            }
        }
    }

    @Test
    void manifest_bytesNotMatchingTheAnnouncedDigest_invalidSource() throws Exception {
        byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        Digest other = Digest.ofBytes("something else".getBytes(StandardCharsets.UTF_8));
        try (FakeUpstream fake = FakeUpstream.start()) {
            fake.on("/v2/app/manifests/v1", (method, socket, out) -> FakeUpstream.respond(out, 200, Map.of(
                    "Content-Type", MediaTypes.OCI_MANIFEST, "Docker-Content-Digest", other.toString()), manifest));
            try (SourceClient client = SourceClient.open(fake.uri(), as(Credentials.ANONYMOUS), SETTINGS)) {
                MigrateException e = assertThrows(MigrateException.class,
                        () -> client.manifest("app", Reference.ofTag("v1")));
                assertEquals(FailureKind.INVALID_SOURCE, e.kind());
                MigrateException byDigest = assertThrows(MigrateException.class,
                        () -> client.manifest("app", Reference.ofDigest(other)));
                assertEquals(FailureKind.NOT_FOUND, byDigest.kind());
            }
        }
    }
}
