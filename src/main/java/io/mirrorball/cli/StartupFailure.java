package io.mirrorball.cli;

import io.mirrorball.config.ConfigException;
import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.ipfs.IpfsNodeInUseException;
import io.mirrorball.upstream.retention.LedgerInUseException;
import java.io.PrintWriter;
import java.net.BindException;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway that cannot start: one line on standard error that says why
 * ({@code mirrorball: cannot listen on :5000: address already in use}) and an exit code; the stack
 * trace only at log level debug.
 */
final class StartupFailure {
    private static final Logger LOG = LoggerFactory.getLogger("mirrorball");

    private StartupFailure() {
    }

    /** Reports {@code e}, thrown while starting with {@code config}, and returns the exit code. */
    static int report(PrintWriter err, MirrorballConfig config, Exception e) {
        ConfigException invalid = find(e, ConfigException.class);
        if (invalid != null) {
            throw invalid; // Main reports it (exit 2)
        }
        LOG.debug("start-up failed", e);
        int code = 1;
        String line;
        BindException bind = find(e, BindException.class);
        IpfsNodeInUseException nodeInUse = find(e, IpfsNodeInUseException.class);
        LedgerInUseException ledgerInUse = find(e, LedgerInUseException.class);
        if (bind != null) {
            line = "cannot listen on " + addr(config.http()) + ": " + lowerFirst(bind.getMessage());
        } else if (nodeInUse != null) {
            code = StoreCommands.EXIT_STORE_UNUSABLE;
            line = "cannot open the data directory: " + nodeInUse.getMessage() + "; is another mirrorball running?";
        } else if (ledgerInUse != null) {
            code = StoreCommands.EXIT_STORE_UNUSABLE;
            line = "cannot open the cache ledger: " + ledgerInUse.getMessage() + "; is another mirrorball running?";
        } else {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String message = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
            line = "cannot start: " + message;
        }
        err.println("mirrorball: " + line.replace('\n', ' '));
        err.flush();
        return code;
    }

    /** {@code http.addr} as written: {@code :5000} for every interface, else {@code host:port}. */
    static String addr(MirrorballConfig.Http http) {
        String host = http.host();
        if (io.mirrorball.web.GatewayServer.isWildcard(host) && !host.contains(":")) {
            return ":" + http.port();
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + http.port();
    }

    private static String lowerFirst(String message) {
        if (message == null || message.isEmpty()) {
            return "the address cannot be bound";
        }
        return message.substring(0, 1).toLowerCase(Locale.ROOT) + message.substring(1);
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            for (Throwable suppressed : t.getSuppressed()) {
                if (type.isInstance(suppressed)) {
                    return type.cast(suppressed);
                }
            }
        }
        return null;
    }
}
