package io.mirrorball.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Response;
import io.mirrorball.oci.Digest;
import io.mirrorball.testing.Browser;
import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.testing.OciLayoutBuilder;
import io.mirrorball.testing.Skopeo;
import io.mirrorball.testing.SourceRegistryFixture;
import io.mirrorball.web.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The web page in Debian's chromium against a real gateway: images pushed with skopeo (and pulled
 * through a docker-registry upstream) show up in the listing, search, repository and image pages, and
 * the skopeo commands the page shows really pull them. Saves screenshots to target/screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class WebPageBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String UPSTREAM = "registry.test";

    private Browser browser;
    private Path tmp;
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    /** What {@link #pushImages} pushed: app:1.0, app:1.1, base:3.19 and the multi-arch org/tools:multi. */
    private record Pushed(TestGateway gateway, OciLayoutBuilder.Image app10, OciLayoutBuilder.Image app11,
                          OciLayoutBuilder.MultiArch tools) {
    }

    @BeforeAll
    void launch() {
        browser = Browser.launch();
    }

    @AfterAll
    void closeBrowser() {
        browser.close();
    }

    @BeforeEach
    void setUp(@TempDir Path tmp) {
        this.tmp = tmp;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
        closeLater.clear();
    }

    private TestGateway gateway(Map<String, String> env) throws Exception {
        TestGateway gateway = TestGateway.start(tmp.resolve("gw"), env);
        closeLater.add(gateway);
        return gateway;
    }

    private OciLayoutBuilder.Image push(TestGateway gateway, Skopeo skopeo, String ref, long seed) {
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(tmp.resolve("layout-" + seed)).seed(seed)
                .layer(30_000, true).layer(10_000, true).build("t");
        skopeo.copy(image.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/" + ref);
        return image;
    }

    private Pushed pushImages(TestGateway gateway, Skopeo skopeo) {
        OciLayoutBuilder.Image app10 = push(gateway, skopeo, "app:1.0", 1);
        OciLayoutBuilder.Image app11 = push(gateway, skopeo, "app:1.1", 2);
        push(gateway, skopeo, "base:3.19", 3);
        OciLayoutBuilder.MultiArch tools = OciLayoutBuilder.at(tmp.resolve("layout-multi")).seed(4)
                .layer(20_000, true).buildMultiArch("t");
        skopeo.copyAll(tools.skopeoRef(), "docker://" + gateway.uri().getAuthority() + "/org/tools:multi");
        return new Pushed(gateway, app10, app11, tools);
    }

    private Pushed publicGateway() throws Exception {
        TestGateway gateway = gateway(Map.of());
        return pushImages(gateway, Skopeo.in(tmp.resolve("skopeo")));
    }

    private static Page open(Page page, TestGateway gateway, String path) {
        Response response = page.navigate(gateway.uri() + path);
        assertEquals(200, response.status(), path);
        return page;
    }

    private static Locator row(Page page, String repository) {
        return page.locator("#repositories tr[data-repository=\"" + repository + "\"]");
    }

    private static List<String> visibleRepositories(Page page) {
        return page.locator("#repositories tbody tr:visible").all().stream()
                .map(r -> r.getAttribute("data-repository")).sorted().toList();
    }

    private static String fact(Page page, String field) {
        return page.locator("#facts [data-field=\"" + field + "\"]").innerText().strip();
    }

    /** The CID the gateway published a manifest under, from {@code X-Ipfs-Path} on HEAD. */
    private static String publishedCid(TestGateway gateway, String name, String reference, String accept)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<Void> head = http.send(HttpRequest.newBuilder(
                        gateway.uri().resolve("/v2/" + name + "/manifests/" + reference))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", accept)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding());
        String path = head.headers().firstValue("X-Ipfs-Path")
                .orElseThrow(() -> new AssertionError("no X-Ipfs-Path on " + name + ":" + reference));
        return path.substring("/ipfs/".length());
    }

    @ParameterizedTest(name = "javaScript={0}")
    @ValueSource(booleans = {true, false})
    void listing_pushedImages_rowsWithKindTagCountAndStats(boolean javaScript) throws Exception {
        Pushed pushed = publicGateway();
        Browser.Visitor visitor = javaScript ? Browser.Visitor.anonymous() : Browser.Visitor.anonymous().withoutJavaScript();
        Page page = browser.page(visitor);
        List<String> errors = new ArrayList<>(); // chromium's /favicon.ico 404 is in neither list
        page.onConsoleMessage(message -> {
            if (message.type().equals("error") && !message.text().startsWith("Failed to load resource")) {
                errors.add(message.text());
            }
        });
        page.onResponse(response -> {
            if (response.status() >= 400) {
                errors.add(response.status() + " " + response.url());
            }
        });
        open(page, pushed.gateway(), "/");
        assertEquals(pushed.gateway().uri() + "/ui/", page.url(), "/ redirects to the listing");

        assertEquals(List.of("app", "base", "org/tools"), page.locator("#repositories tr[data-kind=pushed]").all()
                .stream().map(r -> r.getAttribute("data-repository")).sorted().toList());
        assertThat(row(page, "app").locator(".tag-count")).hasText("2");
        assertThat(row(page, "base").locator(".tag-count")).hasText("1");
        assertThat(row(page, "org/tools").locator(".tag-count")).hasText("1");
        int rows = page.locator("#repositories tbody tr").count();
        assertThat(page.locator("[data-stat=repositories]")).hasText(Integer.toString(rows));
        assertTrue(Integer.parseInt(page.locator("[data-stat=blobs]").innerText().strip()) >= 10,
                "config and layer blobs of 5 images: " + page.locator("[data-stat=blobs]").innerText());
        assertTrue(page.locator("[data-stat=storage]").innerText().strip().matches("[\\d.]+ (B|KiB|MiB|GiB)"),
                page.locator("[data-stat=storage]").innerText());
        String cid = publishedCid(pushed.gateway(), "app", "1.1", OCI_MANIFEST);
        assertThat(page.locator("#recent-publishes li[data-repository=app]").first()).hasAttribute("data-cid", cid);
        assertThat(row(page, cid)).hasAttribute("data-kind", "content-addressed");
        assertThat(page.locator("#no-repositories")).isHidden();

        row(page, "org/tools").locator("a").click();
        assertThat(page.locator("#repository")).hasText("org/tools");
        assertThat(page.locator("#kind")).hasText("pushed");
        Locator multi = page.locator("#tags tr[data-tag=multi]");
        assertThat(multi.locator(".digest")).containsText(pushed.tools().indexDigest().toString());
        assertThat(multi.locator(".platforms")).hasText("linux/amd64, linux/arm64");
        assertThat(multi.locator(".time time")).hasAttribute("datetime", Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT"));
        assertEquals(List.of(), errors, "no failed resource, script error or CSP violation");
    }

    @Test
    void search_typingWithJavaScript_hidesRowsWithoutReload() throws Exception {
        Pushed pushed = publicGateway();
        Page page = open(browser.page(), pushed.gateway(), "/ui/");
        String url = page.url();
        List<String> all = visibleRepositories(page);
        assertTrue(all.containsAll(List.of("app", "base", "org/tools")), all.toString());
        page.locator("#q").fill("TOO");
        assertThat(row(page, "app")).isHidden();
        assertThat(row(page, "org/tools")).isVisible();
        assertEquals(List.of("org/tools"), visibleRepositories(page));
        page.locator("#q").fill("nothing-matches");
        assertThat(page.locator("#no-repositories")).isVisible();
        assertEquals(List.of(), visibleRepositories(page));
        page.locator("#q").fill("");
        assertEquals(all, visibleRepositories(page));
        assertEquals(url, page.url(), "filtered in place");
    }

    @Test
    void search_submitWithoutJavaScript_filtersOnTheServer() throws Exception {
        Pushed pushed = publicGateway();
        Page page = open(browser.page(Browser.Visitor.anonymous().withoutJavaScript()), pushed.gateway(), "/ui/");
        page.locator("#q").fill("Tools");
        page.locator("#search-submit").click();
        page.waitForURL("**/ui/?q=Tools");
        assertEquals(List.of("org/tools"), page.locator("#repositories tbody tr").all().stream()
                .map(r -> r.getAttribute("data-repository")).toList());
        assertThat(page.locator("#q")).hasValue("Tools");
        open(page, pushed.gateway(), "/ui/?q=nothing-matches");
        assertEquals(0, page.locator("#repositories tbody tr").count());
        assertThat(page.locator("#no-repositories")).isVisible();
    }

    @Test
    void imagePage_tagAndDigest_factsMatchThePushedManifest() throws Exception {
        Pushed pushed = publicGateway();
        Digest digest = pushed.app10().manifestDigest();
        String cid = publishedCid(pushed.gateway(), "app", "1.0", OCI_MANIFEST);
        Page page = open(browser.page(), pushed.gateway(), "/ui/r/app");
        page.locator("#tags tr[data-tag=\"1.0\"] .tag a").click();
        assertThat(page.locator("#image")).hasText("app:1.0");
        assertEquals(digest.toString(), fact(page, "digest"));
        Locator mediaType = page.locator("#facts [data-field=media-type]");
        assertTrue((mediaType.innerText() + " " + mediaType.getAttribute("title")).contains(OCI_MANIFEST),
                mediaType.innerHTML());
        assertEquals("linux/amd64", fact(page, "platforms"));
        assertTrue(fact(page, "size").matches("[\\d.]+ (B|KiB|MiB)"), fact(page, "size"));
        assertThat(page.locator("#cid-link")).hasAttribute("href", "/ipfs/" + cid + "?format=car");

        APIResponse disco = page.request().get(pushed.gateway().uri() + page.locator("#disco-json").getAttribute("href"));
        assertEquals(200, disco.status());
        assertTrue(disco.headers().get("content-type").startsWith("application/json"), disco.headers().toString());
        List<String> blobs = StreamSupport.stream(JSON.readTree(disco.body()).path("blobs").spliterator(), false)
                .map(b -> b.path("digest").asText()).toList();
        assertTrue(blobs.contains(digest.hex()), "disco.json blobs " + blobs);
        assertTrue(blobs.contains(pushed.app10().layerDigests().get(0).hex()), "disco.json blobs " + blobs);

        open(page, pushed.gateway(), "/ui/r/app/-/" + digest);
        assertThat(page.locator("#image")).hasText("app@" + digest);
        assertEquals(digest.toString(), fact(page, "digest"));
        open(page, pushed.gateway(), "/ui/r/org/tools/-/multi");
        assertEquals(pushed.tools().indexDigest().toString(), fact(page, "digest"));
        assertTrue(page.locator("#facts [data-field=media-type]").getAttribute("title").contains(OCI_INDEX));
        assertEquals("linux/amd64, linux/arm64", fact(page, "platforms"));
    }

    @Test
    void pullCommands_skopeoByTagDigestAndCid_pullThePushedManifest() throws Exception {
        Pushed pushed = publicGateway();
        Page page = open(browser.page(), pushed.gateway(), "/ui/r/app/-/1.1");
        page.context().grantPermissions(List.of("clipboard-read", "clipboard-write"));
        Locator byTag = page.locator("code.pull[data-client=skopeo][data-by=tag]");
        byTag.locator("xpath=ancestor::*[button[contains(@class,'copy')]][1]/button").click();
        assertEquals(byTag.innerText(), page.evaluate("navigator.clipboard.readText()"), "the copy button copies the command");
        Skopeo skopeo = Skopeo.in(tmp.resolve("skopeo-pull"));
        for (String by : List.of("tag", "digest", "cid")) {
            String command = page.locator("code.pull[data-client=skopeo][data-by=" + by + "]").innerText().strip();
            assertTrue(command.startsWith("skopeo copy --src-tls-verify=false docker://"
                    + pushed.gateway().uri().getAuthority() + "/"), command);
            List<String> argv = new ArrayList<>(Arrays.asList(command.split(" ")));
            Path out = tmp.resolve("pulled-" + by);
            assertTrue(argv.get(argv.size() - 1).startsWith("oci:"), command);
            argv.set(argv.size() - 1, "oci:" + out);
            Skopeo.Result result = skopeo.run(argv.subList(1, argv.size()));
            assertEquals(0, result.exitCode(), command + "\n" + result.stderr());
            JsonNode index = JSON.readTree(out.resolve("index.json").toFile());
            assertEquals(pushed.app11().manifestDigest().toString(), index.path("manifests").path(0).path("digest").asText(),
                    "pulled by " + by + ": " + command);
        }
    }

    @Test
    void accessRules_privatePrefix_hiddenFromAnonymousShownToAlice() throws Exception {
        Path users = HtpasswdFile.write(tmp.resolve("htpasswd"), "alice", "alice-pw");
        TestGateway gateway = gateway(Map.of(
                "MIRRORBALL_AUTH_HTPASSWD_PATH", users.toString(),
                "MIRRORBALL_AUTH_ANONYMOUS_PULL", "true",
                "MIRRORBALL_AUTH_ACCESS", "[{prefix: private/, pull: [alice], push: [alice]}]"));
        Skopeo alice = Skopeo.in(tmp.resolve("skopeo")).login(gateway.uri().getAuthority(), "alice", "alice-pw");
        push(gateway, alice, "public/app:1", 5);
        push(gateway, alice, "private/secret:1", 6);

        Page anonymous = open(browser.page(), gateway, "/ui/");
        assertThat(row(anonymous, "public/app")).isVisible();
        assertEquals(0, anonymous.locator("#repositories tr[data-repository^=\"private/\"]").count());
        assertThat(anonymous.locator("#login")).isVisible();
        Response hidden = anonymous.navigate(gateway.uri() + "/ui/r/private/secret");
        assertEquals(404, hidden.status());
        assertThat(anonymous.locator("#not-found")).isVisible();
        assertEquals(404, anonymous.navigate(gateway.uri() + "/ui/r/private/secret/-/1").status());

        Page signedIn = browser.page(Browser.Visitor.user("alice", "alice-pw"));
        open(signedIn, gateway, "/ui/");
        signedIn.locator("#login").click();
        signedIn.waitForURL(gateway.uri() + "/ui/");
        assertThat(signedIn.locator("#user")).hasText("alice");
        assertThat(row(signedIn, "private/secret")).isVisible();
        open(signedIn, gateway, "/ui/r/private/secret");
        assertThat(signedIn.locator("#repository")).hasText("private/secret");
    }

    private TestGateway upstreamGateway(SourceRegistryFixture source) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("MIRRORBALL_UPSTREAMS_0_NAME", UPSTREAM);
        env.put("MIRRORBALL_UPSTREAMS_0_URL", source.uri().toString());
        TestGateway gateway = gateway(env);
        Skopeo puller = Skopeo.in(tmp.resolve("skopeo-upstream"));
        for (int pull = 0; pull < 2; pull++) {
            puller.copy("docker://" + gateway.uri().getAuthority() + "/" + UPSTREAM + "/app:1.0.0",
                    "oci:" + tmp.resolve("through-" + pull) + ":x");
        }
        return gateway;
    }

    private SourceRegistryFixture source() {
        SourceRegistryFixture source = SourceRegistryFixture.start(tmp.resolve("source"));
        closeLater.add(source);
        return source;
    }

    @Test
    void upstream_pulledThroughImage_listedWithUpstreamKindAndHitRate() throws Exception {
        SourceRegistryFixture source = source();
        TestGateway gateway = upstreamGateway(source);
        Page page = open(browser.page(), gateway, "/ui/");
        Locator upstreamRow = page.locator("#repositories tr[data-kind=upstream]");
        assertThat(upstreamRow).hasCount(1);
        assertThat(upstreamRow).hasAttribute("data-upstream", UPSTREAM);
        assertTrue(upstreamRow.getAttribute("data-repository").endsWith("app"), upstreamRow.getAttribute("data-repository"));
        assertThat(upstreamRow.locator(".tag-count")).hasText("1");
        Locator upstream = page.locator("#upstreams tr[data-upstream=\"" + UPSTREAM + "\"]");
        assertThat(upstream.locator(".hit-rate")).hasText(Pattern.compile("^\\d{1,3}%$"));
        assertThat(upstream.locator(".state")).hasText("ok");

        upstreamRow.locator("a").click();
        assertThat(page.locator("#kind")).hasText("upstream");
        assertThat(page.locator("#tags tr[data-tag=\"1.0.0\"] .digest")).containsText(source.digest("app:1.0.0").toString());
    }

    /** Full-page PNGs at 1280x800 for the docs: an overview with pushed and pulled-through repositories. */
    @Test
    void screenshots_overviewRepositoryAndImage_savedAsPng() throws Exception {
        TestGateway gateway = upstreamGateway(source());
        Pushed pushed = pushImages(gateway, Skopeo.in(tmp.resolve("skopeo")));
        Path dir = Files.createDirectories(Path.of(System.getProperty("mirrorball.basedir", "."), "target", "screenshots"));
        Page page = browser.page();
        Map<String, String> shots = Map.of("overview", "/ui/", "repository", "/ui/r/app",
                "image", "/ui/r/org/tools/-/multi");
        for (Map.Entry<String, String> shot : shots.entrySet()) {
            open(page, pushed.gateway(), shot.getValue());
            Path png = dir.resolve(shot.getKey() + ".png");
            page.screenshot(new Page.ScreenshotOptions().setPath(png).setFullPage(true));
            assertEquals(Browser.WIDTH, pngWidth(png), png.toString());
        }
    }

    private static int pngWidth(Path png) throws IOException {
        try (InputStream in = Files.newInputStream(png)) {
            byte[] header = in.readNBytes(24);
            assertEquals("PNG", new String(header, 1, 3, StandardCharsets.US_ASCII));
            return ByteBuffer.wrap(header, 16, 4).getInt();
        }
    }
}
