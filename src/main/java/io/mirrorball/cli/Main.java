package io.mirrorball.cli;

import io.mirrorball.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code mirrorball} command line. Exit codes: 0 success, 1 failure, 2 invalid command line or
 * invalid configuration (the message names the offending key; no stack trace), 3 the store cannot
 * be opened because a running gateway holds it ({@code export}, {@code import}, {@code serve}). A
 * failure prints one line; its stack trace is logged at level debug.
 */
@Command(name = "mirrorball", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "OCI registry gateway that stores images in IPFS.",
        commandListHeading = "%nCommands:%n")
public final class Main implements Runnable {
    /** Exit code of an invalid command line or configuration. */
    public static final int EXIT_USAGE = 2;
    /** The log level (logback.xml), read when the first logger is made (before that, in {@link #main}). */
    private static final String LOG_LEVEL = "mirrorball.log.level";

    @Spec
    CommandSpec spec;

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("export") || args[0].equals("import"))
                && System.getProperty(LOG_LEVEL) == null) {
            // their stdout is CIDs and their stderr one line per failure: the store's logs stay quiet
            System.setProperty(LOG_LEVEL, "error");
        }
        System.exit(commandLine(System.getenv()).execute(args));
    }

    /** The command tree; {@code env} supplies the MIRRORBALL_* overrides. */
    static CommandLine commandLine(Map<String, String> env) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.addSubcommand("serve", new ServeCommand(env));
        commandLine.addSubcommand("fsck", new FsckCommand());
        commandLine.addSubcommand("repack", new RepackCommand());
        commandLine.addSubcommand("cid", new CidCommand());
        commandLine.addSubcommand("migrate", new MigrateCommand(env));
        commandLine.addSubcommand("export", new ExportCommand(env));
        commandLine.addSubcommand("import", new ImportCommand(env));
        commandLine.addSubcommand("cache", new CacheCommand(env));
        commandLine.addSubcommand("gc", new GcCommand(env));
        commandLine.setExecutionExceptionHandler((e, failed, parseResult) -> {
            if (e instanceof ConfigException) {
                failed.getErr().println("mirrorball: invalid configuration: " + e.getMessage());
                failed.getErr().flush();
                return EXIT_USAGE;
            }
            // one line; the stack trace only at log level debug
            LoggerFactory.getLogger("mirrorball").debug("mirrorball {} failed", failed.getCommandName(), e);
            String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            failed.getErr().println("mirrorball " + failed.getCommandName() + ": " + message.replace('\n', ' '));
            failed.getErr().flush();
            return 1;
        });
        return commandLine;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: use one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** The version of the jar, or "development build" when run from classes. */
    static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        if (version != null) {
            return version;
        }
        try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/io.mirrorball/mirrorball/pom.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "development build");
            }
        } catch (IOException e) {
            return "development build (" + e + ")";
        }
        return "development build";
    }

    static final class VersionProvider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"mirrorball " + version(),
                "Java ${java.version} (${java.vendor}), ${os.name} ${os.arch}"};
        }
    }
}
