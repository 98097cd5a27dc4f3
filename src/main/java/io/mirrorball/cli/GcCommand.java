package io.mirrorball.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.oci.Digest;
import io.mirrorball.store.GarbageCollector;
import io.mirrorball.upstream.retention.CacheLedger;
import io.mirrorball.upstream.retention.CacheRetention;
import io.mirrorball.upstream.retention.CachedItem;
import io.mirrorball.web.AdminServlet;
import io.mirrorball.web.Gateway;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball gc [--dry-run] [--url URL] [--output table|json]}: the store's mark and sweep
 * (docs/gc.md). Without {@code --url} it opens the store itself, so the gateway must not run (exit 3
 * when the embedded node or the cache ledger is held); with {@code --url} it asks the running gateway
 * ({@code POST /admin/gc}), which sweeps while pushes go on.
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = "Remove what nothing references any more: blobs of deleted images, published copies no"
                + " repository holds, pulled-through content past its retention; then free the blocks.")
public final class GcCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** A gc of a large store walks all of it: the online request may take this long. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofHours(2);

    @Mixin
    ConfigOption config = new ConfigOption();

    @Option(names = "--dry-run", description = "only list what would be removed; change nothing")
    boolean dryRun;

    @Option(names = "--url", paramLabel = "URL",
            description = "a running gateway (e.g. http://127.0.0.1:5000): run the gc there, online")
    URI url;

    @Mixin
    OutputOption output = new OutputOption();

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    GcCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        boolean json = output.json();
        JsonNode result;
        try {
            result = url != null ? online() : offline(config.load(env));
        } catch (io.mirrorball.ipfs.IpfsNodeInUseException
                 | io.mirrorball.upstream.retention.LedgerInUseException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("mirrorball gc: the store is in use by a running gateway (" + e.getMessage()
                    + "); stop it, or run the gc on it: mirrorball gc --url http://<its address>");
            err.flush();
            return StoreCommands.EXIT_STORE_UNUSABLE;
        } catch (Exception e) {
            return StoreCommands.fail(spec.commandLine().getErr(), "gc", e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(result.toString());
        } else {
            out.printf("%-10s  %-71s  %12s%n", "KIND", "NAME", "SIZE");
            for (JsonNode r : result.path("removed")) {
                out.printf("%-10s  %-71s  %12d%n", r.path("kind").asText(), r.path("name").asText(),
                        r.path("size").asLong());
            }
            out.printf(dryRun ? "would remove %d items (%d bytes of blobs)%n" : "removed %d items, freed %d bytes%n",
                    result.path("count").asLong(), result.path("freedBytes").asLong());
        }
        out.flush();
        return 0;
    }

    private JsonNode offline(MirrorballConfig loaded) throws IOException {
        Clock clock = Clock.systemUTC();
        if (dryRun) {
            List<CachedItem> items = CacheLedger.readOnly(Gateway.cacheLedgerPath(loaded));
            try (LocalStore local = LocalStore.open(loaded)) {
                Set<Digest> keep = keep(items, CacheRetention.plan(local.store(), items, loaded.cache(),
                        clock.instant()).removals());
                return AdminServlet.gcJson(run(local, keep, false));
            }
        }
        // the ledger first: a gateway that mirrors holds it (and on the embedded node, the node), exit 3
        try (CacheLedger ledger = CacheLedger.open(Gateway.cacheLedgerPath(loaded), clock);
             LocalStore local = LocalStore.open(loaded)) {
            List<CachedItem> items = ledger.items();
            Set<Digest> keep = keep(items, CacheRetention.of(local.store(), ledger, loaded.cache(), clock,
                    Duration.ZERO).plan().removals());
            GarbageCollector.Result result = run(local, keep, loaded.storage().ipfs().kuboGc());
            result.blobDigests().forEach(ledger::removed);
            ledger.flush();
            return AdminServlet.gcJson(result);
        }
    }

    private GarbageCollector.Result run(LocalStore local, Set<Digest> keep, boolean kuboGc) throws IOException {
        return local.store().collector().run(new GarbageCollector.Options(dryRun, true, keep, Duration.ZERO,
                Duration.ZERO, kuboGc));
    }

    private static Set<Digest> keep(List<CachedItem> items, List<CachedItem> removals) {
        Set<CachedItem> going = new HashSet<>(removals);
        Set<Digest> keep = new HashSet<>();
        for (CachedItem item : items) {
            if (!going.contains(item)) {
                keep.add(item.digest());
            }
        }
        return keep;
    }

    private JsonNode online() throws IOException, InterruptedException {
        URI target = URI.create(url.toString().replaceAll("/+$", "") + "/admin/gc" + (dryRun ? "?dry-run=true" : ""));
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(target).timeout(REQUEST_TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            String body = response.body();
            throw new IOException("the gateway answered " + response.statusCode() + ": "
                    + (body.length() > 300 ? body.substring(0, 300) : body).replace('\n', ' '));
        }
        return JSON.readTree(response.body());
    }
}
