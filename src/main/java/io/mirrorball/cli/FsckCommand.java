package io.mirrorball.cli;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.EmbeddedNode;
import io.mirrorball.ipfs.FsckReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball fsck --path ./data/ipfs}: checks an embedded node's store. It walks MFS from the
 * committed root and every pinned root, verifies each reachable block against its CID, prints a
 * summary and every missing or corrupt block, and exits 0 when the store is clean, 1 when not, 2 when
 * the path holds no store.
 * The gateway must not be running on the same store (the store is locked while open).
 */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = "Verify the embedded IPFS store: every block reachable from MFS and the pins.")
public final class FsckCommand implements Callable<Integer> {
    @Option(names = "--path", defaultValue = "./data/ipfs",
            description = "Directory of the embedded IPFS node (storage.ipfs.embedded.path). Default: ${DEFAULT-VALUE}")
    Path path;

    @Spec
    CommandSpec spec;

    public FsckCommand() {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.isRegularFile(path.resolve("mfs-log")) && !Files.isRegularFile(path.resolve("mfs-root"))) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("fsck: " + path + " is not an embedded IPFS store (no mfs-log file)");
            err.flush();
            return 2;
        }
        try (EmbeddedNode node = EmbeddedNode.open(path)) {
            FsckReport report = node.fsck();
            out.printf("fsck %s: MFS root %s, %d blocks (%d bytes) checked, %d missing, %d corrupt%n",
                    path, report.root(), report.blocksChecked(), report.bytesChecked(),
                    report.missing().size(), report.corrupt().size());
            for (Cid cid : report.missing()) {
                out.println("missing " + cid);
            }
            for (Cid cid : report.corrupt()) {
                out.println("corrupt " + cid);
            }
            out.flush();
            return report.clean() ? 0 : 1;
        }
    }
}
