package io.mirrorball.testing;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.PlaywrightException;
import com.microsoft.playwright.Response;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The browser fixture on its own: chromium renders a throwaway local server's pages. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class BrowserTest {
    private static final String PAGE = """
            <!doctype html><html><head><title>fixture</title></head>
            <body><h1 id="title">Hello from the fixture</h1><p id="script">script did not run</p>
            <script src="/script.js"></script></body></html>""";
    private static final String SCRIPT = "document.getElementById('script').textContent = 'script ran';";
    private static final String ALICE = "Basic " + Base64.getEncoder()
            .encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));

    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private Browser browser;
    private HttpServer server;

    @BeforeAll
    void launch() {
        browser = Browser.launch();
    }

    @AfterAll
    void closeBrowser() {
        browser.close();
    }

    @BeforeEach
    void serve() throws IOException {
        authorizations.clear();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> answer(exchange, 200, "text/html", PAGE));
        server.createContext("/script.js", exchange -> answer(exchange, 200, "text/javascript", SCRIPT));
        server.createContext("/private", exchange -> {
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(authorization == null ? "none" : authorization);
            if (ALICE.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                answer(exchange, 200, "text/html", "<p id=\"who\">alice</p>");
            } else {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"fixture\"");
                answer(exchange, 401, "text/html", "<p id=\"who\">nobody</p>");
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void answer(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Test
    void page_javaScriptOn_rendersTextAndRunsScripts() {
        Page page = browser.page();
        page.navigate(url("/"));
        assertThat(page.locator("#title")).hasText("Hello from the fixture");
        assertThat(page.locator("#script")).hasText("script ran");
        assertEquals(Browser.WIDTH, page.viewportSize().width);
    }

    @Test
    void page_javaScriptOff_scriptsDoNotRun() {
        Page page = browser.page(Browser.Visitor.anonymous().withoutJavaScript());
        page.navigate(url("/"));
        assertThat(page.locator("#title")).hasText("Hello from the fixture");
        assertThat(page.locator("#script")).hasText("script did not run");
    }

    @Test
    void page_withCredentials_answersTheBasicChallenge() {
        Page alice = browser.page(Browser.Visitor.user("alice", "s3cret"));
        Response signedIn = alice.navigate(url("/private"));
        assertEquals(200, signedIn.status());
        assertThat(alice.locator("#who")).hasText("alice");
        assertEquals(List.of("none", ALICE), authorizations, "a challenge first, then the credentials");
    }

    /** Headless chromium turns a challenge it has no credentials for into a failed navigation. */
    @Test
    void page_withoutCredentials_challengeFailsTheNavigation() {
        PlaywrightException e = assertThrows(PlaywrightException.class,
                () -> browser.page().navigate(url("/private")));
        assertTrue(e.getMessage().contains("ERR_INVALID_AUTH_CREDENTIALS"), e.getMessage());
        assertEquals(List.of("none"), authorizations);
    }

    @Test
    void launch_chromiumMissing_failsNamingSetupScript() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Browser.launch(Path.of("/nonexistent/chromium")));
        assertTrue(e.getMessage().contains("bash tests/setup.sh"), e.getMessage());
    }
}
