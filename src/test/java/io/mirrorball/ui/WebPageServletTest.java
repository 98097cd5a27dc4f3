package io.mirrorball.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.web.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page over plain HTTP, as a browser without JavaScript gets it: the server-rendered listing,
 * search, a repository and an image, the headers that keep it safe, and what each visitor may see.
 * (WebPageBrowserTest drives the same pages in Chromium.)
 */
final class WebPageServletTest {
    @TempDir
    Path tmp;
    private TestGateway gateway;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private HttpResponse<String> get(String path, String user) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.uri() + path))
                .timeout(Duration.ofSeconds(30));
        if (user != null) {
            request.header("Authorization", HtpasswdFile.basic(user, user + "-pw"));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private OciLayoutBuilder.Image push(Skopeo skopeo, String ref, long seed, String... creds) {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("img-" + seed)).seed(seed)
                .layer(20_000, true).build("1");
        String[] args = creds.length == 0 ? new String[0] : new String[] {"--dest-creds", creds[0]};
        skopeo.copy(image.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/" + ref, args);
        return image;
    }

    @Test
    void pages_pushedImages_listedSearchableWithTagsCidAndPullCommands() throws Exception {
        gateway = TestGateway.start(tmp);
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        OciLayoutBuilder.Image app = push(skopeo, "app:1.0", 1);
        push(skopeo, "org/tools:latest", 2);
        OciLayoutBuilder.MultiArch multi = OciLayoutBuilder.at(tmp.resolve("multi")).seed(5).layer(10_000, true)
                .buildMultiArch("m");
        skopeo.copyAll(multi.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/org/multi:m");

        HttpResponse<String> root = get("/", null);
        assertEquals(302, root.statusCode());
        assertTrue(root.headers().firstValue("Location").orElse("").endsWith("/ui/"));

        HttpResponse<String> listing = get("/ui/", null);
        assertEquals(200, listing.statusCode());
        assertTrue(listing.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(listing.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        String body = listing.body();
        assertTrue(body.contains("data-repository=\"app\" data-kind=\"pushed\""), body);
        assertTrue(body.contains("data-repository=\"org/tools\" data-kind=\"pushed\""), body);
        assertTrue(body.contains("data-kind=\"content-addressed\""), "the published CIDs are listed");
        assertTrue(body.contains("<li data-repository=\"app\" data-cid=\"bafy"), "recent publishes name the CID");
        assertEquals(3, body.split("data-kind=\"content-addressed\"", -1).length - 1,
                "one CID per image pushed by tag, none for the platform images of org/multi: " + body);
        assertFalse(body.contains("org/multi@sha256:"), "the platform images pushed by digest are not publishes to show");
        assertTrue(get("/ui/r/org/multi/-/m", null).body().contains("linux/amd64, linux/arm64"), "the index's platforms");

        String searched = get("/ui/?q=TOOL", null).body();
        assertTrue(searched.contains("data-repository=\"org/tools\""));
        assertFalse(searched.contains("data-repository=\"app\" data-kind"), "filtered on the server");

        String repository = get("/ui/r/app", null).body();
        assertTrue(repository.contains("<tr data-tag=\"1.0\">"), repository);
        assertTrue(repository.contains(app.manifestDigest().toString()));
        assertTrue(repository.contains("linux/amd64"), "the platform of the config");
        assertTrue(repository.contains("<time datetime=\""), "the push time");

        HttpResponse<String> image = get("/ui/r/app/-/1.0", null);
        assertEquals(200, image.statusCode());
        String cid = image.body().replaceAll("(?s).*id=\"cid-link\" href=\"/ipfs/([a-z0-9]+)\\?format=car\".*", "$1");
        assertTrue(cid.startsWith("bafy"), image.body());
        String ipdr = get("/v2/app/manifests/1.0", null).headers().firstValue("X-Ipdr-Path").orElseThrow()
                .substring("/ipfs/".length());
        assertTrue(image.body().contains("<dd data-field=\"ipdr-cid\"><code class=\"cid\">" + ipdr + "</code>"),
                image.body());
        String host = gateway.uri().getAuthority();
        assertTrue(image.body().contains("skopeo copy --src-tls-verify=false docker://" + host + "/app:1.0 oci:app"));
        assertTrue(image.body().contains("ctr images pull --plain-http " + host + "/" + cid + ":latest"));
        assertEquals(200, get("/ui/r/app/-/" + app.manifestDigest(), null).statusCode(), "by digest");

        HttpResponse<String> disco = get("/ui/ipfs/" + cid + "/disco.json", null);
        assertEquals(200, disco.statusCode());
        assertTrue(disco.body().contains(app.manifestDigest().hex()), disco.body());

        assertEquals(404, get("/ui/r/nothing", null).statusCode());
        assertEquals(404, get("/ui/r/app/-/2.0", null).statusCode());
        assertEquals(404, get("/ui/r/app/-/..%2f..", null).statusCode());
        assertEquals(404, get("/ui/r/" + cid + "/-/latest/x", null).statusCode());
    }

    @Test
    void pages_accessRules_anonymousSeesOnlyWhatItMayPull() throws Exception {
        Path htpasswd = HtpasswdFile.write(tmp.resolve("htpasswd"), Map.of("alice", "alice-pw", "bob", "bob-pw"));
        gateway = TestGateway.start(tmp, Map.of(
                "MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString(),
                "MIRRORBALL_AUTH_ANONYMOUS_PULL", "true",
                "MIRRORBALL_AUTH_ACCESS", "[{prefix: private/, pull: [alice], push: [alice]}]"));
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo"));
        push(skopeo, "public/app:1", 3, "bob:bob-pw");
        push(skopeo, "private/secret:1", 4, "alice:alice-pw");

        String anonymous = get("/ui/", null).body();
        assertTrue(anonymous.contains("data-repository=\"public/app\""));
        assertFalse(anonymous.contains("private/secret"), "no trace of the private repository");
        assertEquals(1, anonymous.split("data-kind=\"content-addressed\"", -1).length - 1,
                "only the public image's CID: " + anonymous);
        assertTrue(anonymous.contains("id=\"login\""));
        assertEquals(404, get("/ui/r/private/secret", null).statusCode());
        assertEquals(404, get("/ui/r/private/secret", "bob").statusCode(), "bob may not pull it either");

        String alice = get("/ui/", "alice").body();
        assertTrue(alice.contains("data-repository=\"private/secret\""));
        assertTrue(alice.contains("<span id=\"user\">alice</span>"));
        assertEquals(2, alice.split("data-kind=\"content-addressed\"", -1).length - 1);
        assertEquals(200, get("/ui/r/private/secret/-/1", "alice").statusCode());

        HttpResponse<String> login = get("/ui/login", null);
        assertEquals(401, login.statusCode());
        assertEquals("Basic realm=\"mirrorball\"", login.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(302, get("/ui/login", "alice").statusCode());
        assertEquals(401, get("/ui/", "alice-wrong").statusCode(), "a wrong password is refused, never downgraded");
    }
}
