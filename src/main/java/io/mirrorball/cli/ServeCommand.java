package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.log.Logging;
import io.mirrorball.web.GatewayServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball serve [--config FILE]}: loads the configuration (the file, else
 * {@code conf/mirrorball.yml} when the working directory has one, else the built-in defaults; the
 * {@code MIRRORBALL_*} environment overrides always apply), starts the gateway and runs until the
 * process is stopped. An invalid configuration fails before anything starts (exit code 2, see
 * {@link Main}); a gateway that cannot start prints one line ({@link StartupFailure}). The first
 * line on standard output says where it really listens; a warning follows when anyone may push.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = {"Run the registry gateway.",
            "Configuration: --config FILE, else $MIRRORBALL_CONFIG, else conf/mirrorball.yml if present, else built-in defaults;",
            "every key can be overridden as MIRRORBALL_<PATH>, e.g. MIRRORBALL_HTTP_ADDR=:5000."})
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger("mirrorball");

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
        Logging.apply(loaded.log());
        PrintWriter out = spec.commandLine().getOut();
        GatewayServer server;
        try {
            server = GatewayServer.start(loaded);
        } catch (Exception e) {
            return StartupFailure.report(spec.commandLine().getErr(), loaded, e);
        }
        try {
            out.println("mirrorball " + Main.version() + " listening on " + server.listening() + " ("
                    + (server.listensEverywhere() ? "all interfaces; " : "") + "ipfs: "
                    + loaded.storage().ipfs().nodeForDisplay() + ", upstream: " + upstreams(loaded) + ")");
            out.flush();
            if (pushesOpenToAnyone(loaded)) {
                LOG.warn("pushes are open to anyone who can reach {}: no authentication is configured "
                        + "(auth.htpasswd.path or auth.token); configure it, or listen on a loopback address such as 127.0.0.1:{}",
                        server.listening(), loaded.http().port());
            }
            server.join();
        } finally {
            server.close();
        }
        return 0;
    }

    /**
     * True when anyone may push: no authentication is configured and the gateway listens on an
     * address other hosts can reach (a wildcard or a non-loopback address).
     */
    static boolean pushesOpenToAnyone(MirrorballConfig config) {
        // every way to authenticate counts here: htpasswd users and token auth
        if (config.auth().htpasswd() != null || config.auth().token() != null) {
            return false;
        }
        String host = config.http().host();
        if (GatewayServer.isWildcard(host)) {
            return true;
        }
        try {
            return !InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return true;
        }
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
