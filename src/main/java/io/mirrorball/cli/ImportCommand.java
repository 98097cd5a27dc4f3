package io.mirrorball.cli;

import io.mirrorball.config.MirrorballConfig;
import io.mirrorball.store.CarImporter;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball import FILE.car [--store] [-c FILE]}: imports the images of a CAR into the
 * gateway's store (see {@link CarImporter}), so that a gateway on it serves each by its CID. Prints
 * the CID of each image imported, one a line; each failure is one line on stderr. Exit 0, 1 when
 * any image failed, 2 invalid command line or configuration, 3 the store is in use by a running
 * gateway (an embedded node holds its store while the gateway runs).
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import the images of a CAR file (from 'mirrorball export') into the store;"
                + " each can then be pulled by its CID. Prints each imported image's CID.")
public final class ImportCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config = new ConfigOption();

    @Parameters(index = "0", paramLabel = "FILE.car", description = "the CAR to import")
    Path car;

    @Option(names = "--store", description = "import into the store of the configuration (the default)")
    boolean store;

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    ImportCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MirrorballConfig loaded = config.load(env);
        if (!Files.isRegularFile(car)) {
            err.println("mirrorball import: no such file: " + car);
            err.flush();
            return StoreCommands.EXIT_FAILURE;
        }
        List<CarImporter.Outcome> outcomes;
        try (LocalStore local = LocalStore.open(loaded);
                InputStream in = new BufferedInputStream(Files.newInputStream(car), 256 * 1024)) {
            outcomes = CarImporter.of(local.store(), loaded.storage().ipfs().cloneTimeout()).importCar(in);
        } catch (NoSuchFileException e) {
            err.println("mirrorball import: no such file: " + car);
            err.flush();
            return StoreCommands.EXIT_FAILURE;
        } catch (Exception e) {
            return StoreCommands.fail(err, "import", e);
        }
        int code = 0;
        for (CarImporter.Outcome outcome : outcomes) {
            if (outcome.imported()) {
                out.println(outcome.root());
            } else {
                err.println("mirrorball import: " + outcome.failure().orElseThrow());
                code = StoreCommands.EXIT_FAILURE;
            }
        }
        out.flush();
        err.flush();
        return code;
    }
}
