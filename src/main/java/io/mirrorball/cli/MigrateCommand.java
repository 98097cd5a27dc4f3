package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.migrate.ImageFailure;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.MigrateOptions;
import io.mirrorball.migrate.Migration;
import io.mirrorball.migrate.MigrationReport;
import io.mirrorball.oci.Platform;
import io.mirrorball.migrate.Progress;
import io.mirrorball.migrate.ResumeJournal;
import io.mirrorball.migrate.dest.Destination;
import io.mirrorball.migrate.dest.GatewayDestination;
import io.mirrorball.migrate.dest.StoreDestination;
import io.mirrorball.migrate.progress.Progresses;
import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball migrate (--to URL | --store) SOURCE...}: copies images from registries, OCI
 * layouts and {@code docker save} archives into a mirrorball, publishes each to IPFS and reports its
 * CID. Results go to stdout (a table, or {@code --output json}); progress and warnings to stderr.
 * Exit codes: 0 all copied, 1 some image failed (the others finished), 2 invalid command line, 3 the
 * destination is unusable (nothing was attempted).
 */
@Command(name = "migrate", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {"Copy images into mirrorball (and so onto IPFS), and print their CIDs.",
            "SOURCE: docker://HOST/REPO:TAG or @DIGEST (one image), docker://HOST/REPO (every tag),",
            "docker://HOST (every repository), NAME[:TAG] (Docker Hub: alpine, library/alpine),",
            "oci:DIR[:TAG] (an OCI image layout), docker-archive:FILE (a docker save tar)."})
final class MigrateCommand implements Callable<Integer> {
    /** The destination cannot be used (unreachable, refuses the credentials, store held): nothing was attempted. */
    static final int EXIT_DESTINATION = StoreCommands.EXIT_STORE_UNUSABLE;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SOURCE", arity = "0..*", description = "what to copy (see above)")
    List<String> sources = new ArrayList<>();

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--to", paramLabel = "URL", required = true,
                description = "a running mirrorball, e.g. http://127.0.0.1:5000")
        String url;

        @Option(names = "--store", required = true,
                description = "write into the store of the configuration (-c) directly; no gateway may be running on it")
        boolean store;
    }

    @Mixin
    ConfigOption config = new ConfigOption();

    @Option(names = "--from-file", paramLabel = "FILE", description = "read SOURCEs from FILE, one a line (# comments)")
    Path fromFile;

    @Option(names = "--include", paramLabel = "REGEX", description = "copy only tags matching REGEX (whole tag; repeatable)")
    List<String> include = new ArrayList<>();

    @Option(names = "--exclude", paramLabel = "REGEX", description = "skip tags matching REGEX (whole tag; repeatable)")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--semver", paramLabel = "RANGE", description = "copy only tags that are versions in RANGE, e.g. '>=1.2 <2'")
    String semver;

    @Option(names = "--repos", paramLabel = "REGEX", description = "with docker://HOST: copy only repositories matching REGEX")
    List<String> repos = new ArrayList<>();

    @Option(names = "--skip-repos", paramLabel = "REGEX", description = "with docker://HOST: skip repositories matching REGEX")
    List<String> skipRepos = new ArrayList<>();

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "copy only this platform of a multi-platform image (default: every platform)")
    String platform;

    @Option(names = "--no-referrers", description = "do not copy signatures, SBOMs and other referrers")
    boolean noReferrers;

    @Option(names = "--dest-prefix", paramLabel = "PREFIX", defaultValue = "",
            description = "put PREFIX before every repository name at the destination, e.g. mirror/")
    String destPrefix;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "6", description = "blobs copied at once (default: ${DEFAULT-VALUE})")
    int jobs;

    @Option(names = "--src-creds", paramLabel = "USER[:PASSWORD]", description = "credentials for the source registries")
    String srcCreds;

    @Option(names = "--src-password-stdin", description = "read the source password from stdin (with --src-creds USER)")
    boolean srcPasswordStdin;

    @Option(names = "--dest-creds", paramLabel = "USER:PASSWORD", description = "credentials for the destination gateway")
    String destCreds;

    @Option(names = "--authfile", paramLabel = "FILE",
            description = "auth.json or config.json with source credentials (default: podman's, then docker's)")
    Path authFile;

    @Option(names = "--src-plain-http", description = "talk to the source registries over http, not https")
    boolean srcPlainHttp;

    @Option(names = "--max-retry-wait", paramLabel = "DURATION", defaultValue = "15m",
            description = "longest wait for a rate limit or an unreachable host, e.g. 90s, 15m (default: ${DEFAULT-VALUE})")
    String maxRetryWait;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "where uploads in flight are noted, for a re-run to continue them")
    Path stateDir;

    @Option(names = "--dry-run", description = "list what would be copied; write nothing")
    boolean dryRun;

    @Mixin
    OutputOption output = new OutputOption();

    @Option(names = "--progress", paramLabel = "auto|plain|none", defaultValue = "auto",
            description = "progress on stderr: a live display on a terminal, plain lines, or errors only (default: ${DEFAULT-VALUE})")
    String progressMode;

    @Option(names = "--test-halt-at", hidden = true)
    String testHaltAt;

    @Option(names = "--test-retry-scale", hidden = true, defaultValue = "1")
    double testRetryScale;

    @Option(names = "--test-page-size", hidden = true, defaultValue = "1000")
    int testPageSize;

    private final Map<String, String> env;

    MigrateCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean json = output.json();
        MigrateOptions options;
        SourceOpener opener;
        List<String> texts = new ArrayList<>(sources);
        try {
            if (fromFile != null) {
                texts.addAll(SourceOpener.readList(fromFile));
            }
            options = new MigrateOptions(jobs, platform == null ? null : Platform.parse(platform), !noReferrers,
                    destPrefix, dryRun, duration(maxRetryWait), testRetryScale);
            opener = SourceOpener.create(this, env);
            if (!Progresses.MODES.contains(progressMode)) {
                throw new IllegalArgumentException("--progress must be one of " + String.join(", ", Progresses.MODES)
                        + ", not '" + progressMode + "'");
            }
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (texts.isEmpty()) {
            throw usage("no SOURCE given");
        }
        try (Opened destination = openDestination(err)) {
            if (destination == null) {
                return EXIT_DESTINATION;
            }
            List<Migration.Entry> entries = new ArrayList<>();
            List<ImageFailure> unopened = new ArrayList<>();
            MigrationReport report;
            try (Progress progress = Progresses.forMode(progressMode, err)) {
                for (String text : texts) {
                    try {
                        entries.add(opener.open(text));
                    } catch (IllegalArgumentException e) {
                        throw usage(e.getMessage());
                    } catch (MigrateException e) {
                        ImageFailure failure = new ImageFailure(text, e.kind(), e.getMessage());
                        progress.imageFailed(failure);
                        unopened.add(failure);
                    }
                }
                ResumeJournal journal = ResumeJournal.open(stateDirectory(destination.key()));
                Migration migration = new Migration(destination.destination(), destination.key(), options, progress,
                        journal, testHaltAt);
                try {
                    report = migration.run(entries).withFailures(unopened);
                } finally {
                    for (Migration.Entry entry : entries) {
                        entry.source().rateLimit().ifPresent(limit -> progress.warning(entry.host() + " rate limit: "
                                + limit.describe()));
                        entry.source().close();
                    }
                }
            }
            if (json) {
                report.printJson(out);
            } else {
                report.printTable(out);
            }
            return report.failed() ? 1 : 0;
        }
    }

    /** The destination and the text that keys its resume journal; null (reported) when it is unusable. */
    private record Opened(Destination destination, String key, AutoCloseable owner) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            destination.close();
            if (owner != null) {
                owner.close();
            }
        }
    }

    private Opened openDestination(PrintWriter err) throws IOException {
        if (target.url != null) {
            try {
                GatewayDestination gateway = GatewayDestination.connect(target.url, Optional.ofNullable(destCreds), jobs);
                return new Opened(gateway, target.url.replaceAll("/+$", ""), null);
            } catch (MigrateException e) {
                err.println("mirrorball migrate: " + e.getMessage());
                err.flush();
                return null;
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        MirrorballConfig loaded = config.load(env);
        LocalStore store;
        try {
            store = LocalStore.open(loaded);
        } catch (IOException e) {
            StoreCommands.fail(err, "migrate", e);
            return null;
        }
        String key = loaded.storage().ipfs().nodeForDisplay() + " " + loaded.storage().ipfs().mfsRoot();
        return new Opened(new StoreDestination(store.store()), key, store);
    }

    private Path stateDirectory(String destinationKey) {
        if (stateDir != null) {
            return stateDir;
        }
        String home = env.getOrDefault("XDG_STATE_HOME", "");
        Path base = home.isEmpty() ? Path.of(System.getProperty("user.home"), ".local", "state") : Path.of(home);
        String hex = Digest.ofBytes(destinationKey.getBytes(StandardCharsets.UTF_8)).hex().substring(0, 16);
        return base.resolve("mirrorball").resolve("migrate").resolve(hex);
    }

    /** {@code 90s}, {@code 15m}, {@code 1h}, or ISO-8601 ({@code PT15M}). */
    static Duration duration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.matches("\\d+(ms|s|m|h)")) {
                long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
                return t.endsWith("ms") ? Duration.ofMillis(n) : t.endsWith("s") ? Duration.ofSeconds(n)
                        : t.endsWith("m") ? Duration.ofMinutes(n) : Duration.ofHours(n);
            }
            return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (for example 90s, 15m, 1h)");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
