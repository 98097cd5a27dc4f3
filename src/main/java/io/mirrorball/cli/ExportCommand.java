package io.mirrorball.cli;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.store.ImageExporter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball export (REF|CID)... -o FILE.car (--from URL | [--store] [-c FILE])}: writes
 * published images of the gateway's store (or of a running gateway, {@code --from}) as one CAR v1
 * (each block once), to {@code FILE.car.tmp} renamed at the end. Prints the CID of each image written, one a line. Exit 0, 1 on any failure (nothing
 * written), 2 invalid command line or configuration, 3 the store is in use by a running gateway.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write published images of the store to one CAR file (for 'mirrorball import' or"
                + " 'ipfs dag import --pin-roots'). Prints each image's CID.")
public final class ExportCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config = new ConfigOption();

    @Parameters(arity = "1..*", paramLabel = "REF|CID",
            description = "NAME[:TAG], NAME@DIGEST, or the CID of a published image")
    List<String> images;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.car", description = "the CAR to write")
    Path output;

    @Option(names = "--store", description = "read from the store of the configuration (the default)")
    boolean store;

    @Option(names = "--from", paramLabel = "URL",
            description = "read from a running gateway instead (manifest HEAD for the CID, then /ipfs/<cid>?format=car)")
    String from;

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    ExportCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (from != null && store) {
            throw new ParameterException(spec.commandLine(), "--from and --store exclude each other");
        }
        List<Cid> written;
        if (from != null) {
            try {
                GatewayImages gateway = new GatewayImages(from);
                List<Cid> roots = new ArrayList<>();
                for (String image : images) {
                    roots.add(gateway.resolve(image));
                }
                written = ImageExporter.write(roots, output, gateway::car);
            } catch (Exception e) {
                return StoreCommands.fail(err, "export", e);
            }
            written.forEach(out::println);
            out.flush();
            return 0;
        }
        try (LocalStore local = LocalStore.open(config.load(env))) {
            ImageExporter exporter = ImageExporter.of(local.store());
            List<Cid> roots = new ArrayList<>();
            for (String image : images) {
                roots.add(exporter.resolve(image));
            }
            written = exporter.export(roots, output);
        } catch (Exception e) {
            return StoreCommands.fail(err, "export", e);
        }
        written.forEach(out::println);
        out.flush();
        return 0;
    }
}
