package io.mirrorball.migrate.source;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The files of an OCI image layout, by their path in the layout ({@code index.json},
 * {@code blobs/sha256/<hex>}): a directory, or the entries of a tar ({@link DockerArchiveSource}).
 */
interface LayoutFiles extends Closeable {
    /** How messages name the layout: the directory or archive as the operator gave it. */
    String describe();

    /** The file's bytes; {@link NoSuchFileException} when the layout has no such file. */
    InputStream open(String path) throws IOException;

    static LayoutFiles directory(Path dir) {
        return new LayoutFiles() {
            @Override
            public String describe() {
                return dir.toString();
            }

            @Override
            public InputStream open(String path) throws IOException {
                Path file = dir.resolve(path);
                if (!Files.isRegularFile(file)) {
                    throw new NoSuchFileException(file.toString());
                }
                return Files.newInputStream(file);
            }

            @Override
            public void close() {
                // nothing held open
            }
        };
    }
}
