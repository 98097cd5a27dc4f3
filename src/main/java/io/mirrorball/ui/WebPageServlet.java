package io.mirrorball.ui;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.WriterOutput;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.store.PushHistory;
import io.mirrorball.store.RegistryStore;
import io.mirrorball.upstream.RateLimitInfo;
import io.mirrorball.upstream.UpstreamRegistry;
import io.mirrorball.upstream.UpstreamStats;
import io.mirrorball.web.AuthFilter;
import io.mirrorball.web.Gateway;
import io.mirrorball.web.auth.AccessRules;
import io.mirrorball.web.auth.Scope;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The registry's web page, read-only, rendered on the server ({@code /} redirects to {@code /ui/}):
 * <ul>
 *   <li>{@code /ui/}: the overview and the repositories, {@code ?q=} filters them;</li>
 *   <li>{@code /ui/r/<name>}: a repository's tags; {@code /ui/r/<name>/-/<tag or digest>}: one image,
 *       its CID and pull commands;</li>
 *   <li>{@code /ui/ipfs/<cid>/disco.json}: the disco.json of an image directory held here;</li>
 *   <li>{@code /ui/login}: under htpasswd, asks the browser for Basic credentials;</li>
 *   <li>{@code /ui/static/}: the style sheet and the script, which only adds live filtering and copy
 *       buttons: every listing works without it.</li>
 * </ul>
 * A visitor sees exactly the repositories they may pull (see {@link RegistryView}); a repository they may
 * not see is a 404, as one that does not exist. Under token authentication a browser has no token, so the
 * page shows what anonymous pulls may see.
 */
public final class WebPageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String PREFIX = "/ui/";
    private static final Duration USAGE_FOR = Duration.ofSeconds(30);
    private static final int RECENT_SHOWN = 10;
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.\\-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?");
    private static final String CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
            + " form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    private static final Set<String> STATIC = Set.of("ui.css", "ui.js", "favicon.svg");

    private transient Gateway gateway;
    private transient RegistryView view;
    private transient AccessRules rules;
    private transient boolean restricted;
    private transient boolean basicLogins;
    private transient TemplateEngine templates;
    private transient LoadingCache<String, RegistryStore.Usage> usage;

    @Override
    public void init() throws ServletException {
        gateway = Gateway.from(getServletContext());
        MirrorballConfig.Auth auth = gateway.config().auth();
        rules = AccessRules.of(auth);
        basicLogins = auth.htpasswd() != null;
        restricted = basicLogins || auth.token() != null;
        String defaultUpstream = gateway.upstreams().defaultRegistry().map(UpstreamRegistry::name).orElse(null);
        view = new RegistryView(gateway.store(), defaultUpstream,
                gateway.retention().map(r -> r.ledger()).orElse(null));
        templates = TemplateEngine.createPrecompiled(null, ContentType.Html, WebPageServlet.class.getClassLoader());
        // read again in the background once USAGE_FOR old: a page waits for it only the first time
        usage = Caffeine.newBuilder().refreshAfterWrite(USAGE_FOR).build(key -> {
            try {
                return gateway.store().usage();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Override
    public void destroy() {
        if (view != null) {
            view.close();
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (path.isEmpty() || path.equals("/") || path.equals("/ui")) {
            response.sendRedirect(request.getContextPath() + PREFIX);
            return;
        }
        String rest = path.substring(PREFIX.length());
        Visitor visitor = visitor(request);
        if (rest.startsWith("static/") && STATIC.contains(rest.substring("static/".length()))) {
            serveStatic(rest.substring("static/".length()), response);
        } else if (rest.equals("login")) {
            login(request, response, visitor);
        } else if (rest.isEmpty()) {
            listing(request, response, visitor);
        } else if (rest.startsWith("r/")) {
            repositoryOrImage(rest.substring(2), request, response, visitor);
        } else if (rest.startsWith("ipfs/") && rest.endsWith("/disco.json")) {
            discoJson(rest.substring("ipfs/".length(), rest.length() - "/disco.json".length()), response, visitor);
        } else {
            notFound(response, visitor, "There is no page here.");
        }
    }

    private Visitor visitor(HttpServletRequest request) {
        if (!restricted) {
            return Visitor.unrestricted();
        }
        // under token auth a browser sends no token: it sees what anonymous pulls may see
        String user = basicLogins && request.getAttribute(AuthFilter.USER_ATTRIBUTE) instanceof String u ? u : null;
        return new Visitor(user, name -> rules.allows(user, new Scope(Scope.REPOSITORY, name.value(),
                Set.of(Scope.PULL))), basicLogins);
    }

    private void listing(HttpServletRequest request, HttpServletResponse response, Visitor visitor)
            throws IOException {
        String query = Optional.ofNullable(request.getParameter("q")).orElse("");
        if (query.length() > 256) {
            query = query.substring(0, 256);
        }
        List<RepositoryRow> all = view.repositories(visitor, "");
        List<RepositoryRow> shown = query.isBlank() ? all : view.repositories(visitor, query);
        render(response, 200, "ui/listing.jte", new ListingPage(Header.of("mirrorball", visitor),
                overview(visitor, all.size()), shown, query));
    }

    private Overview overview(Visitor visitor, int repositories) throws IOException {
        RegistryStore.Usage held;
        try {
            held = usage.get("store");
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        List<Overview.UpstreamRow> upstreams = new ArrayList<>();
        for (UpstreamRegistry registry : gateway.upstreams().registries()) {
            UpstreamStats stats = registry.stats();
            long hits = stats.hits().getCount();
            long pulls = hits + stats.misses().getCount();
            upstreams.add(new Overview.UpstreamRow(registry.name(), registry.base().getHost()
                    + (registry.base().getPort() > 0 ? ":" + registry.base().getPort() : ""),
                    pulls == 0 ? "–" : Math.round(100.0 * hits / pulls) + "%", stats.state().word(),
                    registry.rateLimit().map(RateLimitInfo::describe).orElse("")));
        }
        List<Overview.PublishRow> recent = new ArrayList<>();
        for (PushHistory.Push push : gateway.store().pushHistory().recent()) {
            // pushes by digest are left out: the platform images of a multi-platform push, before its index
            if (recent.size() < RECENT_SHOWN && push.tag() != null && view.sees(visitor, push.repository())) {
                recent.add(new Overview.PublishRow(push.repository().value(), push.tag(), push.digest().toString(),
                        push.cid() == null ? null : push.cid().toString(), TimeText.of(push.at()),
                        push.at().toString()));
            }
        }
        return new Overview(io.mirrorball.migrate.progress.Units.bytes(held.bytes()), held.blobs(), repositories,
                upstreams, recent);
    }

    /** {@code <name>} or {@code <name>/-/<reference>}. */
    private void repositoryOrImage(String rest, HttpServletRequest request, HttpServletResponse response,
                                   Visitor visitor) throws IOException {
        int separator = rest.indexOf("/-/");
        String name = separator < 0 ? rest : rest.substring(0, separator);
        Optional<RegistryView.Entry> entry = RepositoryName.isValid(name) ? view.repository(visitor, name)
                : Optional.empty();
        if (entry.isEmpty()) {
            notFound(response, visitor, "No repository " + name + " here" + (visitor.anonymous() && restricted
                    ? ", or you may not see it." : "."));
            return;
        }
        if (separator < 0) {
            render(response, 200, "ui/repository.jte", new RepositoryPage(Header.of(name, visitor),
                    entry.get().row(), view.tags(entry.get())));
            return;
        }
        String reference = rest.substring(separator + 3);
        Optional<ImagePage.Image> image = Optional.empty();
        try {
            image = view.image(entry.get(), Reference.parse(reference));
        } catch (io.mirrorball.oci.OciException e) {
            // not a tag or digest: nothing to show
        }
        if (image.isEmpty()) {
            notFound(response, visitor, "No image " + reference + " in " + name + " here.");
            return;
        }
        render(response, 200, "ui/image.jte", new ImagePage(Header.of(image.get().reference(), visitor), image.get(),
                PullCommand.of(host(request), request.isSecure(), image.get())));
    }

    private void discoJson(String cidText, HttpServletResponse response, Visitor visitor) throws IOException {
        if (!RegistryView.isCidName(cidText) || view.repository(visitor, cidText).isEmpty()) {
            notFound(response, visitor, "No image directory " + cidText + " here.");
            return;
        }
        Optional<InputStream> disco = gateway.store().discoJson(Cid.parse(cidText));
        if (disco.isEmpty()) {
            notFound(response, visitor, "The image " + cidText + " has no disco.json here.");
            return;
        }
        securityHeaders(response);
        response.setContentType("application/json");
        try (InputStream in = disco.get(); OutputStream out = response.getOutputStream()) {
            in.transferTo(out); // a few KiB: one line per blob
        }
    }

    private void login(HttpServletRequest request, HttpServletResponse response, Visitor visitor) throws IOException {
        if (!basicLogins) {
            notFound(response, visitor, "Signing in here needs htpasswd authentication; under token"
                    + " authentication the page shows what anonymous pulls may see.");
            return;
        }
        if (visitor.anonymous()) {
            response.setHeader("WWW-Authenticate", "Basic realm=\"mirrorball\"");
            securityHeaders(response);
            response.setStatus(401);
            response.setContentType("text/plain;charset=utf-8");
            response.getWriter().write("Sign in with your registry user and password.\n");
            return;
        }
        response.sendRedirect(request.getContextPath() + PREFIX);
    }

    private void notFound(HttpServletResponse response, Visitor visitor, String message) throws IOException {
        render(response, 404, "ui/not-found.jte", new NotFoundPage(Header.of("not found", visitor), message));
    }

    private void render(HttpServletResponse response, int status, String template, Object page) throws IOException {
        securityHeaders(response);
        response.setStatus(status);
        response.setContentType("text/html;charset=utf-8");
        templates.render(template, page, new WriterOutput(response.getWriter()));
    }

    private static void securityHeaders(HttpServletResponse response) {
        response.setHeader("Content-Security-Policy", CSP);
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setHeader("Cache-Control", "no-store"); // what a page lists depends on who asks
    }

    private static void serveStatic(String file, HttpServletResponse response) throws IOException {
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Cache-Control", "public, max-age=3600");
        response.setContentType(file.endsWith(".css") ? "text/css;charset=utf-8" : file.endsWith(".svg")
                ? "image/svg+xml" : "text/javascript;charset=utf-8");
        try (InputStream in = WebPageServlet.class.getResourceAsStream("static/" + file)) {
            if (in == null) {
                throw new IOException("resource static/" + file + " is missing from the build");
            }
            in.transferTo(response.getOutputStream());
        }
    }

    /** The host and port the visitor reached the gateway at, for the pull commands. */
    static String host(HttpServletRequest request) {
        String host = request.getHeader("Host");
        if (host != null && HOST.matcher(host).matches()) {
            return host;
        }
        int port = request.getServerPort();
        boolean standard = port == (request.isSecure() ? 443 : 80);
        return request.getServerName() + (standard ? "" : ":" + port);
    }

    /** The listing page. */
    public record ListingPage(Header header, Overview overview, List<RepositoryRow> repositories, String query) {
    }

    /** A repository's page. */
    public record RepositoryPage(Header header, RepositoryRow repository, List<TagRow> tags) {
    }

    /** The 404 page. */
    public record NotFoundPage(Header header, String message) {
    }
}
