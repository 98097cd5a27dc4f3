package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.testing.CommandResult;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Podman;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.TestTokenIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token authentication (auth.token) of a real gateway, with tokens of the test issuer, skopeo and podman. */
final class TokenAuthGatewayTest {
    @TempDir
    Path tmp;

    private TestTokenIssuer issuer;
    private TestGateway gateway;
    private String registry;
    private String challenge;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        issuer = TestTokenIssuer.start(tmp.resolve("issuer"), "alice", "alice-pw").addUser("bob", "bob-pw");
        Map<String, String> env = new HashMap<>(issuer.gatewayEnv());
        env.put("MIRRORBALL_AUTH_ANONYMOUS_PULL", "false");
        env.put("MIRRORBALL_AUTH_ACCESS", "[{prefix: team-a/, pull: [alice, bob], push: [alice], delete: [alice]}]");
        env.put("MIRRORBALL_AUTH_ADMINS", "alice");
        gateway = TestGateway.start(tmp, env);
        registry = gateway.uri().getAuthority();
        challenge = "Bearer realm=\"" + issuer.realm() + "\",service=\"" + TestTokenIssuer.SERVICE + "\"";
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (issuer != null) {
            issuer.close();
        }
    }

    private HttpResponse<String> send(String method, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.uri() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String wwwAuthenticate(HttpResponse<String> response) {
        return response.headers().firstValue("WWW-Authenticate").orElse("");
    }

    @Test
    void challenge_namesRealmServiceAndTheScopeAsked() throws Exception {
        HttpResponse<String> base = send("GET", "/v2/", null);
        assertEquals(401, base.statusCode());
        assertEquals(challenge, wwwAuthenticate(base));
        HttpResponse<String> pull = send("GET", "/v2/team-a/app/manifests/v1", null);
        assertEquals(401, pull.statusCode());
        assertEquals(challenge + ",scope=\"repository:team-a/app:pull\"", wwwAuthenticate(pull));
        assertTrue(pull.body().contains("\"UNAUTHORIZED\""), pull.body());
        assertEquals(challenge + ",scope=\"repository:team-a/app:pull,push\"",
                wwwAuthenticate(send("POST", "/v2/team-a/app/blobs/uploads/", null)));
        assertEquals(challenge + ",scope=\"repository:team-a/app:delete\"",
                wwwAuthenticate(send("DELETE", "/v2/team-a/app/manifests/sha256:"
                        + "0".repeat(64), null)));
        assertEquals(challenge + ",scope=\"registry:catalog:*\"", wwwAuthenticate(send("GET", "/v2/_catalog", null)));
        assertEquals(200, send("GET", "/v2/", issuer.token("alice")).statusCode());
    }

    @Test
    void badTokens_401InvalidToken() throws Exception {
        Map<String, Object> wrongAudience = issuer.claims("alice", "repository:team-a/app:pull");
        wrongAudience.put("aud", "another-registry");
        Map<String, Object> wrongIssuer = issuer.claims("alice", "repository:team-a/app:pull");
        wrongIssuer.put("iss", "another-issuer");
        Map<String, Object> expired = issuer.claims("alice", "repository:team-a/app:pull");
        expired.put("exp", Instant.now().minusSeconds(3600).getEpochSecond());
        Map<String, Object> good = issuer.claims("alice", "repository:team-a/app:pull");
        Map<String, String> tokens = Map.of(
                "forged", issuer.signForged(good),
                "unknown key", issuer.signWithUnknownKey(good),
                "alg none", issuer.unsigned(good),
                "expired", issuer.sign(expired),
                "wrong audience", issuer.sign(wrongAudience),
                "wrong issuer", issuer.sign(wrongIssuer),
                "garbage", "abc.def.ghi");
        for (Map.Entry<String, String> token : tokens.entrySet()) {
            HttpResponse<String> response = send("GET", "/v2/team-a/app/manifests/v1", token.getValue());
            assertEquals(401, response.statusCode(), token.getKey());
            assertEquals(challenge + ",scope=\"repository:team-a/app:pull\",error=\"invalid_token\"",
                    wwwAuthenticate(response), token.getKey());
        }
        // the same claims properly signed pass authentication (no such manifest)
        assertEquals(404, send("GET", "/v2/team-a/app/manifests/v1", issuer.sign(good)).statusCode());
        assertEquals(404, send("GET", "/v2/team-a/app/manifests/v1", issuer.signWithKid(good)).statusCode());
    }

    @Test
    void pullOnlyToken_cannotPush() throws Exception {
        String pullOnly = issuer.token("alice", "repository:team-a/app:pull");
        HttpResponse<String> push = send("POST", "/v2/team-a/app/blobs/uploads/", pullOnly);
        assertEquals(401, push.statusCode());
        assertEquals(challenge + ",scope=\"repository:team-a/app:pull,push\",error=\"insufficient_scope\"",
                wwwAuthenticate(push));
        assertEquals(202, send("POST", "/v2/team-a/app/blobs/uploads/",
                issuer.token("alice", "repository:team-a/app:pull,push")).statusCode());
        HttpResponse<String> otherRepository = send("GET", "/v2/team-a/other/manifests/v1", pullOnly);
        assertEquals(401, otherRepository.statusCode());
        assertTrue(wwwAuthenticate(otherRepository).endsWith("error=\"insufficient_scope\""));
        assertEquals(401, send("GET", "/v2/_catalog", pullOnly).statusCode());
        assertEquals(200, send("GET", "/v2/_catalog", issuer.token("alice", "registry:catalog:*")).statusCode());
    }

    @Test
    void tokenGrantingWhatTheRulesRefuse_403Denied() throws Exception {
        HttpResponse<String> push = send("POST", "/v2/team-a/app/blobs/uploads/",
                issuer.token("bob", "repository:team-a/app:pull,push"));
        assertEquals(403, push.statusCode());
        assertTrue(push.body().contains("\"DENIED\""), push.body());
        assertEquals(404, send("GET", "/v2/team-a/app/manifests/v1",
                issuer.token("bob", "repository:team-a/app:pull")).statusCode());
        assertEquals(403, send("GET", "/admin/x", issuer.token("bob")).statusCode());
        assertEquals(404, send("GET", "/admin/x", issuer.token("alice")).statusCode());
        assertEquals(401, send("GET", "/admin/x", null).statusCode());
    }

    @Test
    void skopeo_loginPushAndPull_throughTheTokenService() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(41).layer(300_000, true)
                .layer(20_000, true).build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        Skopeo.Result login = skopeo.run(List.of("login", "--tls-verify=false", "--authfile",
                skopeo.home().resolve("auth.json").toString(), "-u", "alice", "-p", "alice-pw", registry));
        assertEquals(0, login.exitCode(), login.stderr());
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/team-a/app:v1");
        String raw = skopeo.inspectRaw("docker://" + registry + "/team-a/app:v1");
        assertTrue(raw.contains(image.layerDigests().get(0).toString()), raw);
        // bob may pull under team-a/ with --creds, but not push there
        skopeo.copy("docker://" + registry + "/team-a/app:v1", "oci:" + tmp.resolve("out") + ":v1",
                "--src-creds", "bob:bob-pw");
        Skopeo.Result denied = skopeo.run(List.of("copy", "--dest-tls-verify=false", "--retry-times", "0",
                "--dest-creds", "bob:bob-pw", image.skopeoRef(), "docker://" + registry + "/team-a/bob:v1"));
        assertNotEquals(0, denied.exitCode());
        assertTrue(denied.stderr().toLowerCase().contains("denied"), denied.stderr());
        assertTrue(issuer.issued() >= 3, "tokens issued: " + issuer.issued());
    }

    @Test
    void skopeo_pullOnlyPolicy_cannotPush() throws Exception {
        issuer.policy((user, type, name, asked) -> asked.stream().filter("pull"::equals).toList());
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(42).layer(10_000, true)
                .build("v1");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        Skopeo.Result push = skopeo.run(List.of("copy", "--dest-tls-verify=false", "--retry-times", "0",
                "--dest-creds", "alice:alice-pw", image.skopeoRef(), "docker://" + registry + "/team-a/app:v1"));
        assertNotEquals(0, push.exitCode());
        assertTrue(push.stderr().contains("401") || push.stderr().toLowerCase().contains("unauthorized"),
                push.stderr());
    }

    @Test
    void podman_loginPullAndPush_throughTheTokenService() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(43).layer(200_000, true)
                .build("v1");
        Skopeo.in(tmp.resolve("skopeo")).copy(image.skopeoRef(), "docker://" + registry + "/team-a/app:v1",
                "--dest-creds", "alice:alice-pw");
        try (Podman podman = Podman.in(tmp.resolve("podman"))) {
            podman.run(List.of("login", "--tls-verify=false", "-u", "alice", "-p", "alice-pw", registry))
                    .requireSuccess();
            podman.run(List.of("pull", "--tls-verify=false", registry + "/team-a/app:v1")).requireSuccess();
            podman.run(List.of("tag", registry + "/team-a/app:v1", registry + "/team-a/copy:v2")).requireSuccess();
            podman.run(List.of("push", "--tls-verify=false", registry + "/team-a/copy:v2")).requireSuccess();
            CommandResult logout = podman.run(List.of("logout", registry));
            assertEquals(0, logout.exitCode(), logout.stderr());
            CommandResult anonymous = podman.run(List.of("pull", "--tls-verify=false", registry + "/team-a/copy:v2"));
            assertNotEquals(0, anonymous.exitCode());
        }
        assertEquals(200, send("HEAD", "/v2/team-a/copy/manifests/v2",
                issuer.token("alice", "repository:team-a/copy:pull")).statusCode());
    }

    @Test
    void deleteManifest_tokenWithoutDelete_401InsufficientScopeAndTheManifestStays_withDelete202() throws Exception {
        String pullPush = issuer.token("alice", "repository:team-a/app:pull,push");
        RegistryClient client = gateway.client();
        TestImages.Image image = TestImages.ociImage(1);
        for (TestImages.Blob blob : image.blobs()) {
            RegistryClient.expect(client.post("/v2/team-a/app/blobs/uploads/?digest=" + RegistryClient.digestOf(
                    blob.content()), blob.content(), "Content-Type", RegistryClient.OCTET_STREAM, "Authorization",
                    "Bearer " + pullPush), 201, "push a blob");
        }
        RegistryClient.expect(client.send("PUT", "/v2/team-a/app/manifests/v1",
                HttpRequest.BodyPublishers.ofByteArray(image.manifest()), "Content-Type", image.mediaType(),
                "Authorization", "Bearer " + pullPush), 201, "push the manifest");
        String manifest = "/v2/team-a/app/manifests/" + image.digest();

        HttpResponse<String> refused = send("DELETE", manifest, pullPush);

        assertEquals(401, refused.statusCode(), refused.body());
        assertEquals(challenge + ",scope=\"repository:team-a/app:delete\",error=\"insufficient_scope\"",
                wwwAuthenticate(refused));
        assertTrue(refused.body().contains("\"UNAUTHORIZED\""), refused.body());
        assertEquals(200, send("GET", manifest, pullPush).statusCode(), "the manifest stays");
        assertEquals(200, send("GET", "/v2/team-a/app/manifests/v1", pullPush).statusCode(), "and its tag");

        HttpResponse<String> notTheRules = send("DELETE", manifest,
                issuer.token("bob", "repository:team-a/app:delete"));
        assertEquals(403, notTheRules.statusCode(), "the token grants it, the rules do not: " + notTheRules.body());
        assertTrue(notTheRules.body().contains("\"DENIED\""), notTheRules.body());
        assertEquals(200, send("GET", manifest, pullPush).statusCode(), "the manifest still stays");

        HttpResponse<String> deleted = send("DELETE", manifest,
                issuer.token("alice", "repository:team-a/app:pull,push,delete"));

        assertEquals(202, deleted.statusCode(), deleted.body());
        assertEquals(404, send("GET", manifest, pullPush).statusCode(), "deleted");
    }
}
