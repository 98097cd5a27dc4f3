package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Access rules (auth.access, auth.groups, auth.admins) with htpasswd users on a real gateway. */
final class AccessRulesGatewayTest {
    private static final String CHALLENGE = "Basic realm=\"mirrorball\"";

    @TempDir
    Path tmp;

    private TestGateway gateway;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        Path htpasswd = HtpasswdFile.write(tmp.resolve("htpasswd"),
                Map.of("alice", "alice-pw", "bob", "bob-pw", "carol", "carol-pw", "root", "root-pw"));
        gateway = TestGateway.start(tmp, Map.of(
                "MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString(),
                "MIRRORBALL_AUTH_ANONYMOUS_PULL", "false",
                "MIRRORBALL_AUTH_GROUPS", "[{name: devs, members: [bob]}]",
                "MIRRORBALL_AUTH_ADMINS", "root",
                "MIRRORBALL_AUTH_ACCESS", "[{prefix: team-a/, pull: [alice, '@devs'], push: [alice], delete: [root]},"
                        + " {prefix: team-b/, pull: [bob], push: [bob]}, {prefix: public/, pull: [anonymous], push: [root]}]"));
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private HttpResponse<String> send(String method, String path, String user) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.uri() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30));
        if (user != null) {
            request.header("Authorization", HtpasswdFile.basic(user, user + "-pw"));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * 404 MANIFEST_UNKNOWN or 202 means the filter let the request through; 401 and 403 are its refusals.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            alice | GET    | /v2/team-a/app/manifests/v1     | 404
            alice | POST   | /v2/team-a/app/blobs/uploads/   | 202
            alice | GET    | /v2/team-b/app/manifests/v1     | 403
            alice | POST   | /v2/team-b/app/blobs/uploads/   | 403
            bob   | GET    | /v2/team-a/app/manifests/v1     | 404
            bob   | POST   | /v2/team-a/app/blobs/uploads/   | 403
            bob   | POST   | /v2/team-b/app/blobs/uploads/   | 202
            carol | GET    | /v2/team-a/app/manifests/v1     | 403
            carol | POST   | /v2/other/app/blobs/uploads/    | 202
            -     | GET    | /v2/public/base/manifests/v1    | 404
            -     | HEAD   | /v2/public/base/manifests/v1    | 404
            -     | POST   | /v2/public/base/blobs/uploads/  | 401
            -     | GET    | /v2/team-a/app/manifests/v1     | 401
            -     | GET    | /v2/other/app/manifests/v1      | 401
            root  | GET    | /admin/unknown                  | 404
            alice | GET    | /admin/unknown                  | 403
            -     | GET    | /admin/unknown                  | 401
            """)
    void filter_decidesByLongestPrefixGroupAndAdmin(String user, String method, String path, int status)
            throws Exception {
        HttpResponse<String> response = send(method, path, user);
        assertEquals(status, response.statusCode(), response.body());
        if (status == 401) {
            assertEquals(CHALLENGE, response.headers().firstValue("WWW-Authenticate").orElse(""));
        }
        if (status == 403) {
            assertTrue(response.body().contains("\"DENIED\""), response.body());
        }
    }

    @Test
    void versionCheck_anonymousPullOfAPrefix_answers200WithTheChallenge() throws Exception {
        HttpResponse<String> base = send("GET", "/v2/", null);
        assertEquals(200, base.statusCode());
        assertEquals(CHALLENGE, base.headers().firstValue("WWW-Authenticate").orElse(""));
        assertNull(send("GET", "/v2/", "alice").headers().firstValue("WWW-Authenticate").orElse(null));
    }

    @Test
    void skopeo_pushAllowedUnderOnePrefixOnly_andAnonymousPullOfPublic() throws Exception {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("src")).seed(51).layer(50_000, true)
                .build("v1");
        String registry = gateway.uri().getAuthority();
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo")).login(registry, "alice", "alice-pw");
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/team-a/app:v1");
        Skopeo.Result denied = skopeo.run(List.of("copy", "--dest-tls-verify=false", "--retry-times", "0",
                image.skopeoRef(), "docker://" + registry + "/team-b/app:v1"));
        assertNotEquals(0, denied.exitCode());
        assertTrue((denied.stderr() + denied.stdout()).contains("403 (Forbidden)"),
                denied.exitCode() + " " + denied.stderr() + denied.stdout());
        skopeo.copy(image.skopeoRef(), "docker://" + registry + "/public/app:v1", "--dest-creds", "root:root-pw");
        Skopeo anonymous = Skopeo.in(tmp.resolve("anonymous"));
        assertTrue(anonymous.inspectRaw("docker://" + registry + "/public/app:v1")
                .contains(image.layerDigests().get(0).toString()));
        Skopeo.Result refused = anonymous.run(List.of("inspect", "--tls-verify=false", "--raw",
                "docker://" + registry + "/team-a/app:v1"));
        assertNotEquals(0, refused.exitCode());
    }

    @Test
    void deleteManifest_pushUserWithoutTheDeleteRule_403DeniedAndTheManifestStays_deleteUser202()
            throws Exception {
        RegistryClient client = gateway.client();
        String alice = HtpasswdFile.basic("alice", "alice-pw");
        TestImages.Image image = TestImages.ociImage(1);
        for (TestImages.Blob blob : image.blobs()) {
            RegistryClient.expect(client.post("/v2/team-a/app/blobs/uploads/?digest=" + RegistryClient.digestOf(
                    blob.content()), blob.content(), "Content-Type", RegistryClient.OCTET_STREAM, "Authorization",
                    alice), 201, "alice pushes a blob");
        }
        RegistryClient.expect(client.send("PUT", "/v2/team-a/app/manifests/v1",
                HttpRequest.BodyPublishers.ofByteArray(image.manifest()), "Content-Type", image.mediaType(),
                "Authorization", alice), 201, "alice pushes the manifest");
        String manifest = "/v2/team-a/app/manifests/" + image.digest();

        HttpResponse<String> denied = send("DELETE", manifest, "alice");

        assertEquals(403, denied.statusCode(), denied.body());
        assertTrue(denied.body().contains("\"DENIED\""), denied.body());
        assertEquals(200, send("GET", manifest, "alice").statusCode(), "the manifest stays");
        assertEquals(200, send("GET", "/v2/team-a/app/manifests/v1", "alice").statusCode(), "and its tag");

        HttpResponse<String> deleted = send("DELETE", manifest, "root");

        assertEquals(202, deleted.statusCode(), deleted.body());
        assertEquals(404, send("GET", manifest, "alice").statusCode(), "deleted");
    }
}
