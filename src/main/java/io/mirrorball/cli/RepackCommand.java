package io.mirrorball.cli;

import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.embedded.RepackReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball repack --path ./data/ipfs}: migrates an embedded node's store written by an
 * older version, where every 256 KiB block of a file is a file of its own, to one blob file per
 * imported file (see {@link EmbeddedNode#repack()}). Files stay readable either way; after the
 * repack they are read sequentially from one file. It can be interrupted (even with kill -9) and
 * run again. Exits 0 when done, 2 when the path holds no store. The gateway must not be running
 * on the same store (the store is locked while open).
 */
@Command(name = "repack", mixinStandardHelpOptions = true,
        description = "Move the files of an embedded IPFS store written by an older version (one file per"
                + " 256 KiB block) into one blob file each. Safe to interrupt and to run again.")
public final class RepackCommand implements Callable<Integer> {
    @Option(names = "--path", defaultValue = "./data/ipfs",
            description = "Directory of the embedded IPFS node (storage.ipfs.embedded.path). Default: ${DEFAULT-VALUE}")
    Path path;

    @Spec
    CommandSpec spec;

    public RepackCommand() {
    }

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(path.resolve("mfs-log")) && !Files.isRegularFile(path.resolve("mfs-root"))) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("repack: " + path + " is not an embedded IPFS store (no mfs-log file)");
            err.flush();
            return 2;
        }
        try (EmbeddedNode node = EmbeddedNode.open(path)) {
            RepackReport report = node.repack();
            PrintWriter out = spec.commandLine().getOut();
            out.printf("repack %s: %d files converted to blob files, %d block files moved (%d bytes)%n",
                    path, report.filesConverted(), report.blocksMoved(), report.bytesFreed());
            out.flush();
            return 0;
        }
    }
}
