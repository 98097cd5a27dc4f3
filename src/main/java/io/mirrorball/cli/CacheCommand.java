package io.mirrorball.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.upstream.retention.CacheLedger;
import io.mirrorball.upstream.retention.CacheRetention;
import io.mirrorball.upstream.retention.CachedItem;
import io.mirrorball.upstream.retention.RetentionPlan;
import io.mirrorball.web.Gateway;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball cache ls} and {@code mirrorball cache prune [--dry-run]}: what the pull-through
 * mirror keeps in the store (from the cache ledger beside the uploads), and retention on demand. {@code ls}
 * reads the ledger only, also while a gateway runs (last uses as of its last write, at most a minute
 * old). {@code prune --dry-run} also reads the store (on Kubo while a gateway runs; the embedded node only
 * when none does); {@code prune} needs the ledger for itself, so it exits 3 while a gateway holds it.
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "List the content that pull-through put into the store, and remove what retention would.",
        subcommands = {CacheCommand.Ls.class, CacheCommand.Prune.class})
public final class CacheCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    CacheCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: use ls or prune");
    }

    private static String origin(CachedItem item) {
        String repo = item.repository().isEmpty() ? "-" : item.repository();
        return item.upstream().isEmpty() ? repo : item.upstream() + "/" + repo;
    }

    private static void table(PrintWriter out, List<CachedItem> items) {
        out.printf("%-71s  %12s  %-24s  %s%n", "DIGEST", "SIZE", "LAST USE", "ORIGIN");
        for (CachedItem item : items) {
            out.printf("%-71s  %12d  %-24s  %s%n", item.digest(), item.size(), item.lastUse(), origin(item));
        }
    }

    private static ObjectNode json(CachedItem item) {
        ObjectNode node = JSON.createObjectNode();
        node.put("digest", item.digest().toString());
        node.put("size", item.size());
        node.put("lastUse", item.lastUse().toString());
        node.put("upstream", item.upstream());
        node.put("repository", item.repository());
        return node;
    }

    private static ArrayNode json(List<CachedItem> items) {
        ArrayNode array = JSON.createArrayNode();
        items.forEach(i -> array.add(json(i)));
        return array;
    }

    /** {@code cache ls}: every cached item, least recently used first. */
    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "List what pull-through cached in the store: digest, size, last use, upstream/repository,"
                    + " least recently used first.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        ConfigOption config = new ConfigOption();

        @Mixin
        OutputOption output = new OutputOption();

        @Spec
        CommandSpec spec;

        @picocli.CommandLine.ParentCommand
        CacheCommand parent;

        @Override
        public Integer call() {
            boolean json = output.json();
            return StoreCommands.run(spec.commandLine(), "cache ls", config, parent.env, loaded -> {
                List<CachedItem> items = CacheLedger.readOnly(Gateway.cacheLedgerPath(loaded));
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(json(items).toString());
                } else {
                    table(out, items);
                    out.printf("%d items, %d bytes%n", items.size(), items.stream().mapToLong(CachedItem::size).sum());
                }
                return 0;
            });
        }
    }

    /** {@code cache prune [--dry-run]}: retention now, with the configured limits. */
    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "Remove cached content idle past cache.max-idle, then least recently used beyond"
                    + " cache.max-size; content that a local repository references is never removed.")
    static final class Prune implements Callable<Integer> {
        @Mixin
        ConfigOption config = new ConfigOption();

        @Option(names = "--dry-run", description = "only list what would be removed now")
        boolean dryRun;

        @Mixin
        OutputOption output = new OutputOption();

        @Spec
        CommandSpec spec;

        @picocli.CommandLine.ParentCommand
        CacheCommand parent;

        @Override
        public Integer call() {
            boolean json = output.json();
            return StoreCommands.run(spec.commandLine(), "cache prune", config, parent.env, loaded -> {
                print(spec.commandLine().getOut(), plan(loaded), json);
                return 0;
            });
        }

        private RetentionPlan plan(MirrorballConfig loaded) throws Exception {
            if (dryRun) {
                List<CachedItem> items = CacheLedger.readOnly(Gateway.cacheLedgerPath(loaded));
                try (LocalStore local = LocalStore.open(loaded)) {
                    return CacheRetention.plan(local.store(), items, loaded.cache(), Clock.systemUTC().instant());
                }
            }
            try (CacheLedger ledger = CacheLedger.open(Gateway.cacheLedgerPath(loaded), Clock.systemUTC());
                 LocalStore local = LocalStore.open(loaded)) {
                return CacheRetention.of(local.store(), ledger, loaded.cache(), Clock.systemUTC(), local.gcGrace())
                        .run();
            }
        }

        private void print(PrintWriter out, RetentionPlan plan, boolean json) {
            if (json) {
                ObjectNode result = JSON.createObjectNode();
                result.put("dryRun", dryRun);
                result.set("idle", json(plan.idle()));
                result.set("overSize", json(plan.overSize()));
                result.put("cachedBytes", plan.cachedBytes());
                result.put("removedBytes", plan.bytesToRemove());
                out.println(result.toString());
            } else {
                table(out, plan.removals());
                out.printf("%s %d items, %d of %d cached bytes%n", dryRun ? "would remove" : "removed",
                        plan.removals().size(), plan.bytesToRemove(), plan.cachedBytes());
            }
        }
    }
}
