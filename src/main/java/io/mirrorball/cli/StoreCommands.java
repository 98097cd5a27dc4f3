package io.mirrorball.cli;

import io.mirrorball.config.ConfigException;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNodeInUseException;
import io.mirrorball.oci.OciException;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;

/**
 * Exit codes and one-line failure messages of the commands that open the store directly
 * ({@code export}, {@code import}, {@code cache}): 0 success, 1 failure, 2 invalid command line or configuration
 * (picocli and {@link Main}), 3 the store cannot be used (held by a running gateway).
 */
final class StoreCommands {
    static final int EXIT_FAILURE = 1;
    static final int EXIT_STORE_UNUSABLE = 3;

    private StoreCommands() {
    }

    /** What a command does with the configuration in effect (usually with {@link LocalStore}); returns the exit code. */
    @FunctionalInterface
    interface Work {
        int run(MirrorballConfig config) throws Exception;
    }

    /**
     * Runs a command that works on the store: loads the configuration of {@code option} (an invalid one is
     * a ConfigException, which Main reports with exit 2), runs {@code work} with it and returns its exit
     * code; a failure is one line on the command's error stream and its exit code ({@link #fail}: 3 while
     * a running gateway holds the store or the cache ledger). The output is flushed either way.
     */
    static int run(CommandLine cli, String command, ConfigOption option, Map<String, String> env, Work work) {
        MirrorballConfig config = option.load(env);
        try {
            return work.run(config);
        } catch (Exception e) {
            return fail(cli.getErr(), command, e);
        } finally {
            cli.getOut().flush();
        }
    }

    /** Prints one line for a failure (never a stack trace) and returns the exit code. */
    static int fail(PrintWriter err, String command, Exception e) {
        if (e instanceof ConfigException config) {
            throw config; // Main reports it (exit 2)
        }
        int code = EXIT_FAILURE;
        String message;
        if (e instanceof IpfsNodeInUseException) {
            code = EXIT_STORE_UNUSABLE;
            message = "the store is in use by a running gateway (" + e.getMessage()
                    + "); stop it, or use a gateway on Kubo";
        } else if (e instanceof io.mirrorball.upstream.retention.LedgerInUseException) {
            code = EXIT_STORE_UNUSABLE;
            message = e.getMessage() + "; stop it, or use --dry-run";
        } else if (e instanceof OciException oci) {
            message = oci.detail() != null ? oci.detail() : oci.code().message();
        } else {
            message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
        err.println("mirrorball " + command + ": " + message.replace('\n', ' '));
        err.flush();
        return code;
    }
}
