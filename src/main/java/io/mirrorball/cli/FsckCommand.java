package io.mirrorball.cli;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.embedded.FsckReport;
import io.mirrorball.store.RegistryFsck;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball fsck --path ./data/ipfs [--repair]}: checks an embedded node's store in two steps.
 * Blocks: every block file is hashed against its name, and MFS (from the committed root) and every
 * pinned root are walked for missing or corrupt blocks. Registry: every blob under the MFS root is
 * read and checked against its digest, and every repository link and tag must name a sound blob.
 * It prints a summary and every problem, and exits 0 when the store is clean, 1 when problems were
 * found (with {@code --repair}: found and removed), 2 when the path holds no store.
 *
 * <p>{@code --repair} removes what cannot be served: corrupt block files, blob entries that are lost
 * or wrong, and the links and tags that name them; a re-push or a pull-through then restores them.
 * The gateway must not be running on the same store (the store is locked while open).
 */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = "Verify the embedded IPFS store (every block file, every blob against its digest, every"
                + " repository link) and, with --repair, remove what cannot be served.")
public final class FsckCommand implements Callable<Integer> {
    @Option(names = "--path", defaultValue = "./data/ipfs",
            description = "Directory of the embedded IPFS node (storage.ipfs.embedded.path). Default: ${DEFAULT-VALUE}")
    Path path;

    @Option(names = "--mfs-root", defaultValue = "/docker/registry/v2",
            description = "MFS root of the registry (storage.ipfs.mfs-root). Default: ${DEFAULT-VALUE}")
    String mfsRoot;

    @Option(names = "--repair", description = "Remove corrupt blocks, lost blobs and the links that name them,"
            + " so that a re-push or a pull-through restores them.")
    boolean repair;

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
        if (!mfsRoot.startsWith("/") || mfsRoot.contains("..")) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("fsck: --mfs-root must be an absolute MFS path: " + mfsRoot);
            err.flush();
            return 2;
        }
        try (EmbeddedNode node = EmbeddedNode.open(path)) {
            FsckReport blocks = node.fsck(repair);
            out.printf("fsck %s: MFS root %s, %d block files hashed, %d blocks (%d bytes) reachable, %d missing,"
                            + " %d corrupt%s%n",
                    path, blocks.root(), blocks.blockFiles(), blocks.blocksChecked(), blocks.bytesChecked(),
                    blocks.missing().size(), blocks.corrupt().size(),
                    repair ? ", " + blocks.removed().size() + " corrupt block files removed" : "");
            for (String damaged : blocks.damagedBlobFiles()) {
                out.println("damaged blob file " + damaged + (repair ? " (whole chunks kept as block files, removed)" : ""));
            }
            for (Cid cid : blocks.missing()) {
                out.println("missing " + cid);
            }
            for (Cid cid : blocks.corrupt()) {
                out.println("corrupt " + cid + (blocks.removed().contains(cid) ? " (removed)" : ""));
            }
            RegistryFsck.Report registry = RegistryFsck.check(node, mfsRoot, repair);
            out.printf("registry %s: %d blobs (%d bytes) checked against their digests, %d links checked,"
                            + " %d problems%s%n",
                    mfsRoot, registry.blobsChecked(), registry.bytesChecked(), registry.linksChecked(),
                    registry.problems().size(), repair ? " (removed)" : "");
            for (RegistryFsck.Problem problem : registry.problems()) {
                out.println((problem.removed() ? "removed " : "lost ") + problem.path() + ": " + problem.what());
            }
            out.flush();
            return blocks.clean() && registry.clean() ? 0 : 1;
        }
    }
}
