package io.mirrorball.testing;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.PlaywrightException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's chromium driven by Playwright's Java driver, headless, for the web page's browser tests.
 * Playwright never downloads a browser here; a missing chromium fails the test (it never skips). One
 * instance per test class is enough: each {@link #page(Visitor)} gets a fresh context (cookies,
 * credentials, cache), 1280x800, with short timeouts so a missing element fails fast. Headless chromium
 * answers a Basic challenge it has no credentials for with a failed navigation
 * ({@code net::ERR_INVALID_AUTH_CREDENTIALS}), not with the 401 page.
 *
 * <pre>
 * try (Browser browser = Browser.launch()) {
 *     Page page = browser.page(Browser.Visitor.anonymous().withoutJavaScript());
 *     page.navigate(gateway.uri() + "/ui/");
 * }
 * </pre>
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of(System.getProperty("mirrorball.chromium", "/usr/bin/chromium"));
    public static final int WIDTH = 1280;
    public static final int HEIGHT = 800;
    private static final double TIMEOUT_MILLIS = 15_000;
    private static final List<String> FLAGS = List.of("--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run");

    private final Playwright playwright;
    private final com.microsoft.playwright.Browser chromium;

    /** Who visits: Basic credentials the browser answers a 401 challenge with (or none), and JavaScript on or off. */
    public record Visitor(String username, String password, boolean javaScript) {
        public static Visitor anonymous() {
            return new Visitor(null, null, true);
        }

        public static Visitor user(String username, String password) {
            return new Visitor(username, password, true);
        }

        public Visitor withoutJavaScript() {
            return new Visitor(username, password, false);
        }

        @Override
        public String toString() {
            return "Visitor[" + (username == null ? "anonymous" : username) + ", javaScript=" + javaScript + "]";
        }
    }

    private Browser(Playwright playwright, com.microsoft.playwright.Browser chromium) {
        this.playwright = playwright;
        this.chromium = chromium;
    }

    /** Launches {@link #CHROMIUM} ({@code -Dmirrorball.chromium} overrides /usr/bin/chromium). */
    public static Browser launch() {
        return launch(CHROMIUM);
    }

    /** Launches the chromium at {@code executable}; fails, naming tests/setup.sh, when it is not installed. */
    public static Browser launch(Path executable) {
        if (!Files.isExecutable(executable)) {
            throw new IllegalStateException("chromium is not installed at " + executable
                    + ": run `bash tests/setup.sh` (apt-get install chromium), or point -Dmirrorball.chromium at it");
        }
        Playwright playwright = Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        try {
            return new Browser(playwright, playwright.chromium().launch(new BrowserType.LaunchOptions()
                    .setExecutablePath(executable).setHeadless(true).setArgs(FLAGS)));
        } catch (PlaywrightException e) {
            playwright.close();
            throw new IllegalStateException("launch chromium " + executable + " (run `bash tests/setup.sh`): "
                    + e.getMessage(), e);
        } catch (RuntimeException e) {
            playwright.close();
            throw e;
        }
    }

    /** A fresh context for {@code visitor}; closed with this browser, or earlier by the caller. */
    public BrowserContext context(Visitor visitor) {
        com.microsoft.playwright.Browser.NewContextOptions options = new com.microsoft.playwright.Browser.NewContextOptions()
                .setViewportSize(WIDTH, HEIGHT)
                .setJavaScriptEnabled(visitor.javaScript());
        if (visitor.username() != null) {
            options.setHttpCredentials(visitor.username(), visitor.password());
        }
        BrowserContext context = chromium.newContext(options);
        context.setDefaultTimeout(TIMEOUT_MILLIS);
        context.setDefaultNavigationTimeout(TIMEOUT_MILLIS * 2);
        return context;
    }

    /** A new page in a fresh context for {@code visitor}. */
    public Page page(Visitor visitor) {
        return context(visitor).newPage();
    }

    /** A new page for an anonymous visitor with JavaScript on. */
    public Page page() {
        return page(Visitor.anonymous());
    }

    @Override
    public void close() {
        try {
            chromium.close();
        } finally {
            playwright.close();
        }
    }
}
