package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.web.GatewayServer;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball serve [--config FILE]}: loads the configuration (the file, else
 * {@code conf/mirrorball.yml} when the working directory has one, else the built-in defaults; the
 * {@code MIRRORBALL_*} environment overrides always apply), starts the gateway and runs until the
 * process is stopped. An invalid configuration fails before anything starts (exit code 2, see
 * {@link Main}).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = {"Run the registry gateway.",
            "Configuration: --config FILE, else $MIRRORBALL_CONFIG, else conf/mirrorball.yml if present, else built-in defaults;",
            "every key can be overridden as MIRRORBALL_<PATH>, e.g. MIRRORBALL_HTTP_ADDR=:5000."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config = new ConfigOption();

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    ServeCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The configuration this command would run with; throws ConfigException when it is invalid. */
    MirrorballConfig loadConfig() {
        return config.load(env);
    }

    @Override
    public Integer call() throws Exception {
        MirrorballConfig loaded = loadConfig();
        PrintWriter out = spec.commandLine().getOut();
        GatewayServer server = GatewayServer.start(loaded);
        try {
            out.println("mirrorball " + Main.version() + " listening on " + server.uri() + " (ipfs: "
                    + loaded.storage().ipfs().nodeForDisplay() + ", upstream: " + upstreams(loaded) + ")");
            out.flush();
            server.join();
        } finally {
            server.close();
        }
        return 0;
    }

    /** {@code https://registry-1.docker.io, ghcr.io=https://ghcr.io}: the default first, then each by name. */
    private static String upstreams(MirrorballConfig config) {
        if (!config.anyUpstream()) {
            return "none";
        }
        java.util.List<String> shown = new java.util.ArrayList<>();
        if (config.upstream().enabled()) {
            shown.add(config.upstream().url());
        }
        config.upstreams().forEach(u -> shown.add(u.name() + "=" + u.url()));
        return String.join(", ", shown);
    }
}
