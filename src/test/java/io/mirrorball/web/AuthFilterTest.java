package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class AuthFilterTest {
    private static final int COST = BCrypt.MIN_COST; // fast in tests; production files use 10+
    private static final String CHALLENGE = "Basic realm=\"mirrorball\"";

    @TempDir
    Path tmp;

    private Server server;
    private URI base;
    private AuthFilter filter;
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** What the real errors filter does with an OciException: its status and headers. */
    static final class OciStatusFilter extends HttpFilter {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            try {
                chain.doFilter(request, response);
            } catch (OciException e) {
                response.reset();
                e.headers().forEach(response::setHeader);
                response.setStatus(e.code().status());
                response.setContentType("text/plain");
                response.getWriter().print(e.code().code() + ": " + e.detail());
            }
        }
    }

    /** Answers 200 with the authenticated user (or "-"). */
    static final class UserServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            Object user = request.getAttribute("mirrorball.user");
            response.setStatus(200);
            response.setContentType("text/plain");
            response.getWriter().print(user == null ? "-" : user.toString());
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    private void start(Path htpasswd, boolean anonymousPull) throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("MIRRORBALL_AUTH_ANONYMOUS_PULL", Boolean.toString(anonymousPull));
        if (htpasswd != null) {
            env.put("MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString());
        }
        MirrorballConfig config = ConfigLoader.load(Optional.empty(), env);
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.setAttribute(MirrorballConfig.class.getName(), config);
        filter = new AuthFilter(nanos::get);
        context.addFilter(new FilterHolder(new OciStatusFilter()), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new UserServlet()), "/");
        server.setHandler(context);
        server.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    private Path htpasswd(String... userPasswordPairs) throws IOException {
        return htpasswd(BCrypt.Version.VERSION_2Y, userPasswordPairs);
    }

    private Path htpasswd(BCrypt.Version version, String... userPasswordPairs) throws IOException {
        Path file = tmp.resolve("htpasswd");
        writeUsers(file, version, userPasswordPairs);
        return file;
    }

    private static void writeUsers(Path file, BCrypt.Version version, String... pairs) throws IOException {
        StringBuilder text = new StringBuilder("# users\n");
        for (int i = 0; i < pairs.length; i += 2) {
            text.append(pairs[i]).append(':')
                    .append(BCrypt.with(version).hashToString(COST, pairs[i + 1].toCharArray())).append('\n');
        }
        Files.writeString(file, text);
    }

    private HttpResponse<String> send(String method, String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static void assertUnauthorized(HttpResponse<String> response) {
        assertEquals(401, response.statusCode(), response.body());
        assertEquals(Optional.of(CHALLENGE), response.headers().firstValue("WWW-Authenticate"));
        assertTrue(response.body().startsWith("UNAUTHORIZED: "), response.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"})
    void doFilter_noHtpasswd_allowsEverything(String method) throws Exception {
        start(null, false);
        HttpResponse<String> response = send(method, "/v2/app/blobs/uploads/", null);
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("WWW-Authenticate").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/", "/v2/app/manifests/latest", "/v2/org/app/blobs/sha256:" +
            "0000000000000000000000000000000000000000000000000000000000000000", "/v2/_catalog", "/metrics"})
    void doFilter_anonymousPull_allowsGetAndHeadWithoutCredentials(String path) throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        HttpResponse<String> get = send("GET", path, null);
        assertEquals(200, get.statusCode());
        assertEquals("-", get.body());
        assertEquals(200, send("HEAD", path, null).statusCode());
    }

    /** Issue 14: probes and scrapers have no credentials; these paths never ask for them. */
    @ParameterizedTest
    @ValueSource(strings = {"/livez", "/readyz", "/metrics"})
    void doFilter_noAnonymousPull_healthAndMetricsPassWithoutCredentials(String path) throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        for (String method : List.of("GET", "HEAD")) {
            HttpResponse<String> response = send(method, path, null);
            assertEquals(200, response.statusCode(), method + " " + path);
            assertTrue(response.headers().firstValue("WWW-Authenticate").isEmpty());
        }
        assertEquals(200, send("GET", path, basic("alice", "wrong")).statusCode(), "credentials are not checked here");
        assertUnauthorized(send("GET", "/v2/", null));
    }

    @Test
    void doFilter_anonymousVersionCheck_carriesChallengeFor200() throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        HttpResponse<String> response = send("GET", "/v2/", null);
        assertEquals(200, response.statusCode());
        assertEquals(Optional.of(CHALLENGE), response.headers().firstValue("WWW-Authenticate"));
        assertTrue(send("GET", "/v2/app/tags/list", null).headers().firstValue("WWW-Authenticate").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/livez", "/readyz", "/metrics"})
    void doFilter_healthAndMetrics_needNoCredentials(String path) throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        HttpResponse<String> response = send("GET", path, null);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("-", response.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "POST", "PATCH", "DELETE", "OPTIONS"})
    void doFilter_anonymousPull_refusesWritesWithoutCredentials(String method) throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        assertUnauthorized(send(method, "/v2/app/blobs/uploads/", null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v2/", "/v2", "/v2/app/manifests/latest", "/ipfs/bafy", "/livez/x", "/metricsx"})
    void doFilter_noAnonymousPull_versionCheckAndPullsGet401WithChallenge(String path) throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        assertUnauthorized(send("GET", path, null));
        HttpResponse<String> head = send("HEAD", path, null);
        assertEquals(401, head.statusCode());
        assertEquals(Optional.of(CHALLENGE), head.headers().firstValue("WWW-Authenticate"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2a", "2b", "2y"})
    void doFilter_validCredentials_passEveryBcryptVersionAndSetUser(String prefix) throws Exception {
        BCrypt.Version version = switch (prefix) {
            case "2a" -> BCrypt.Version.VERSION_2A;
            case "2b" -> BCrypt.Version.VERSION_2B;
            default -> BCrypt.Version.VERSION_2Y;
        };
        assertTrue(Files.readString(htpasswd(version, "x", "y")).contains("x:$" + prefix + "$"));
        start(htpasswd(version, "alice", "wonderland", "bob", "p@ss:w0rd é"), false);
        for (String method : List.of("GET", "PUT", "POST", "PATCH", "DELETE")) {
            HttpResponse<String> response = send(method, "/v2/app/blobs/uploads/", basic("alice", "wonderland"));
            assertEquals(200, response.statusCode(), method);
            assertEquals("alice", response.body());
        }
        HttpResponse<String> bob = send("PUT", "/v2/app/manifests/v1", basic("bob", "p@ss:w0rd é"));
        assertEquals(200, bob.statusCode());
        assertEquals("bob", bob.body());
    }

    @ParameterizedTest
    @CsvSource({"alice,wrong", "alice,''", "mallory,wonderland", "ALICE,wonderland", "'',wonderland"})
    void doFilter_wrongCredentials_401EvenForAnonymousPulls(String user, String password) throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic(user, password)));
        assertUnauthorized(send("GET", "/v2/", basic(user, password)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Basic !!!notbase64", "Basic " + "bm9jb2xvbg==" /* "nocolon" */, "Basic"})
    void doFilter_malformedBasic_401(String authorization) throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        assertUnauthorized(send("GET", "/v2/app/tags/list", authorization));
    }

    @Test
    void doFilter_emptyBasicOrOtherScheme_countsAsAnonymous() throws Exception {
        start(htpasswd("alice", "wonderland"), true);
        assertEquals(200, send("GET", "/v2/app/tags/list", basic("", "")).statusCode());
        assertEquals(200, send("GET", "/v2/app/tags/list", "Bearer abc.def").statusCode());
        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic("", "")));
        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", "Bearer abc.def"));
    }

    @Test
    void doFilter_repeatedCredentials_runBcryptOnceUntilCacheExpires() throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        for (int i = 0; i < 20; i++) {
            assertEquals(200, send("PATCH", "/v2/app/blobs/uploads/x", basic("alice", "wonderland")).statusCode());
        }
        assertEquals(1, filter.bcryptVerifications());

        nanos.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(200, send("PATCH", "/v2/app/blobs/uploads/x", basic("alice", "wonderland")).statusCode());
        assertEquals(1, filter.bcryptVerifications());

        nanos.addAndGet(Duration.ofSeconds(2).toNanos()); // 61 s after the first verification
        assertEquals(200, send("PATCH", "/v2/app/blobs/uploads/x", basic("alice", "wonderland")).statusCode());
        assertEquals(2, filter.bcryptVerifications());
    }

    @Test
    void doFilter_failedCredentials_areNeverCached() throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        for (int i = 0; i < 3; i++) {
            assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic("alice", "guess")));
        }
        assertEquals(3, filter.bcryptVerifications());
    }

    @Test
    void doFilter_htpasswdChanged_isReloadedAndDropsCachedCredentials() throws Exception {
        Path file = htpasswd("alice", "wonderland");
        start(file, false);
        assertEquals(200, send("PUT", "/v2/app/manifests/v1", basic("alice", "wonderland")).statusCode());
        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic("carol", "secret")));

        // alice's password changes and carol is added; same second would hide an mtime-only check
        FileTime before = Files.getLastModifiedTime(file);
        writeUsers(file, BCrypt.Version.VERSION_2Y, "alice", "looking-glass", "carol", "secret");
        Files.setLastModifiedTime(file, FileTime.from(before.toInstant().plusSeconds(1)));

        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic("alice", "wonderland")));
        assertEquals("alice", send("PUT", "/v2/app/manifests/v1", basic("alice", "looking-glass")).body());
        assertEquals("carol", send("PUT", "/v2/app/manifests/v1", basic("carol", "secret")).body());
    }

    @Test
    void doFilter_htpasswdDeleted_refusesLoginsButAnonymousPullsGoOn() throws Exception {
        Path file = htpasswd("alice", "wonderland");
        start(file, true);
        Files.delete(file);
        HttpResponse<String> response = send("PUT", "/v2/app/manifests/v1", basic("alice", "wonderland"));
        assertEquals(503, response.statusCode(), response.body());
        assertEquals(200, send("GET", "/v2/app/manifests/v1", null).statusCode());
    }

    @Test
    void init_missingConfigAttribute_fails() {
        Server bare = new Server(0);
        ServletContextHandler context = new ServletContextHandler();
        context.addFilter(new FilterHolder(new AuthFilter()), "/*", EnumSet.of(DispatcherType.REQUEST));
        bare.setHandler(context);
        try {
            Exception e = assertThrows(Exception.class, bare::start);
            assertTrue(String.valueOf(e.getMessage()).contains(MirrorballConfig.class.getName())
                    || String.valueOf(e.getCause()).contains(MirrorballConfig.class.getName()), e.toString());
        } finally {
            try {
                bare.stop();
            } catch (Exception ignored) {
                // the server never started
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            alice:$apr1$abc$0123456789012345678901    | 0 | unsupported hash
            {SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=         | 0 | not user:hash
            bob:plain                                 | 0 | unsupported hash
            bob:$2y$04$short                          | 0 | unsupported hash
            """)
    void htpasswdParse_unsupportedLines_areReportedAndSkipped(String line, int users, String problem) {
        Htpasswd parsed = Htpasswd.parse(List.of("# comment", "", line), "f");
        assertEquals(users, parsed.size());
        assertEquals(1, parsed.problems().size());
        assertTrue(parsed.problems().get(0).startsWith("f line 3: "), parsed.problems().get(0));
        assertTrue(parsed.problems().get(0).contains(problem), parsed.problems().get(0));
    }

    @Test
    void htpasswdParse_duplicateUser_firstLineWins() {
        String first = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(COST, "one".toCharArray());
        String second = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(COST, "two".toCharArray());
        Htpasswd parsed = Htpasswd.parse(List.of("u:" + first, "u:" + second), "f");
        assertEquals(1, parsed.size());
        assertTrue(parsed.verify("u", "one"));
        assertFalse(parsed.verify("u", "two"));
        assertTrue(parsed.problems().get(0).contains("duplicate user u"));
    }

    /** Hashes written by another implementation (glibc/libxcrypt crypt(3), as htpasswd -B uses). */
    @ParameterizedTest
    @ValueSource(strings = {"$2y$05$0123456789abcdefghijkepwLY7fU4LYwInPUBuEIFuSyJbRdOdf.",
            "$2a$05$0123456789abcdefghijkepwLY7fU4LYwInPUBuEIFuSyJbRdOdf.",
            "$2b$05$0123456789abcdefghijkepwLY7fU4LYwInPUBuEIFuSyJbRdOdf."})
    void htpasswdVerify_foreignHash_matchesOnlyItsPassword(String hash) {
        Htpasswd parsed = Htpasswd.parse(List.of("apache:" + hash), "f");
        assertEquals(1, parsed.size());
        assertTrue(parsed.verify("apache", "s3cret pass"));
        assertFalse(parsed.verify("apache", "s3cret pas"));
        assertFalse(parsed.verify("apache", "s3cret pass "));
        assertFalse(parsed.verify("other", "s3cret pass"));
    }

    /** crypt(3) and htpasswd use the first 72 bytes of a password; so must we. */
    @Test
    void htpasswdVerify_longPassword_first72BytesCount() {
        Htpasswd parsed = Htpasswd.parse(
                List.of("long:$2y$04$0123456789abcdefghijkeQTbmm.RcNPT0JaHsD9KFomKrKSIRYFm"), "f"); // "x" * 80
        assertTrue(parsed.verify("long", "x".repeat(80)));
        assertTrue(parsed.verify("long", "x".repeat(72) + "DIFFERENT"));
        assertFalse(parsed.verify("long", "x".repeat(71)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            Basic YWxpY2U6d29uZGVybGFuZA==   | alice | wonderland
            basic   YWxpY2U6d29uZGVybGFuZA== | alice | wonderland
            Basic YTpiOmM=                   | a     | b:c
            """)
    void basicCredentials_parses(String header, String user, String password) {
        assertArrayEquals(new String[] {user, password}, AuthFilter.basicCredentials(header));
    }

    @Test
    void basicCredentials_absentOrOtherScheme_null() {
        assertNull(AuthFilter.basicCredentials(null));
        assertNull(AuthFilter.basicCredentials("Bearer x"));
        assertNull(AuthFilter.basicCredentials("Basic Og=="));
        OciException e = assertThrows(OciException.class, () -> AuthFilter.basicCredentials("Basic %%%"));
        assertEquals(OciErrorCode.UNAUTHORIZED, e.code());
        assertEquals(Map.of("WWW-Authenticate", CHALLENGE), e.headers());
    }

    @Test
    void doFilter_unknownUser_costsABcryptLikeAKnownOne() throws Exception {
        start(htpasswd("alice", "wonderland"), false);
        assertUnauthorized(send("PUT", "/v2/app/manifests/v1", basic("nobody", "x")));
        assertEquals(1, filter.bcryptVerifications());
    }

    /**
     * Issue 9: login timing told which users exist when their bcrypt costs differ. Every failed login
     * now does the bcrypt work of the highest cost in the file, whoever the user.
     */
    @Test
    void htpasswdCheck_failedLogins_sameWorkForUnknownAndEveryCost() {
        String low = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "low".toCharArray());
        String mid = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(5, "mid".toCharArray());
        String high = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(6, "high".toCharArray());
        Htpasswd parsed = Htpasswd.parse(List.of("low:" + low, "mid:" + mid, "high:" + high), "f");

        long expected = 1L << 6;
        assertEquals(new Htpasswd.Check(false, expected), parsed.check("nobody", "x"));
        assertEquals(new Htpasswd.Check(false, expected), parsed.check("low", "wrong"));
        assertEquals(new Htpasswd.Check(false, expected), parsed.check("mid", "wrong"));
        assertEquals(new Htpasswd.Check(false, expected), parsed.check("high", "wrong"));
        assertTrue(parsed.check("low", "low").verified());
        assertTrue(parsed.check("high", "high").verified());
    }

    /** Issue 9: a Basic user name with CR/LF wrote forged lines into the log. */
    @Test
    void logText_userWithCrLf_staysOneEscapedLine() {
        String user = "alice\r\n127.0.0.1 PUT /v2/app/manifests/v1 201 1ms id=x user=admin";

        String logged = LogText.escape(user);

        assertFalse(logged.contains("\n") || logged.contains("\r"), logged);
        assertEquals("alice\\r\\n127.0.0.1 PUT /v2/app/manifests/v1 201 1ms id=x user=admin", logged);
    }
}
