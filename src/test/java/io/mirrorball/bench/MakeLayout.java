package io.mirrorball.bench;

import io.mirrorball.testing.OciLayoutBuilder;

import java.nio.file.Path;

/**
 * Benchmark helper: writes an OCI image layout with {@code layers} gzip layers of pseudo-random
 * bytes that hold {@code totalBytes} together.
 * <pre>java -cp ... io.mirrorball.bench.MakeLayout DIR TAG LAYERS TOTAL_BYTES [SEED]</pre>
 * Prints {@code manifest <digest>}, then {@code layer <digest> <size>} per layer, and {@code total <bytes>}.
 */
public final class MakeLayout {
    private MakeLayout() {
    }

    public static void main(String[] args) {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: MakeLayout DIR TAG LAYERS TOTAL_BYTES [SEED]");
            System.exit(2);
        }
        int layers = Integer.parseInt(args[2]);
        long total = Long.parseLong(args[3]);
        long seed = args.length == 5 ? Long.parseLong(args[4]) : 2024;
        OciLayoutBuilder.Image image = OciLayoutBuilder.at(Path.of(args[0])).seed(seed)
                .layers(layers, total, true).build(args[1]);
        System.out.println("manifest " + image.manifestDigest());
        for (OciLayoutBuilder.Blob layer : image.layers()) {
            System.out.println("layer " + layer.digest() + " " + layer.size());
        }
        System.out.println("total " + image.totalBlobBytes());
    }
}
