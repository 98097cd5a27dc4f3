package io.mirrorball.migrate;

import io.mirrorball.oci.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The only state {@code migrate} keeps of its own: one small file per blob in flight, named
 * {@code <alg>-<hex>}, holding the destination repository and the upload's token (a session URL or
 * id). It is written (atomically, by rename) before the first byte of the blob is sent, and deleted
 * when the blob is complete. A run that finds an entry asks the destination how much of that upload
 * it holds and sends only the rest. Everything else a re-run needs, the destination tells it.
 */
public final class ResumeJournal {
    private final Path directory;

    private ResumeJournal(Path directory) {
        this.directory = directory;
    }

    /** Opens (creating) the journal directory; leftovers of an interrupted write are dropped. */
    public static ResumeJournal open(Path directory) throws IOException {
        Files.createDirectories(directory);
        try (DirectoryStream<Path> temporary = Files.newDirectoryStream(directory, "*.tmp")) {
            for (Path file : temporary) {
                Files.deleteIfExists(file);
            }
        }
        return new ResumeJournal(directory);
    }

    /** One blob in flight: the upload for it in {@code repository}. */
    public record Entry(Digest digest, String repository, String token) {
    }

    public Optional<Entry> find(Digest digest) throws IOException {
        try {
            List<String> lines = Files.readAllLines(file(digest), StandardCharsets.UTF_8);
            if (lines.size() < 2 || lines.get(0).isBlank() || lines.get(1).isBlank()) {
                Files.deleteIfExists(file(digest)); // not written by this class: ignore it
                return Optional.empty();
            }
            return Optional.of(new Entry(digest, lines.get(0), lines.get(1)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public void record(Entry entry) throws IOException {
        Path target = file(entry.digest());
        Path temporary = directory.resolve(target.getFileName() + ".tmp");
        Files.writeString(temporary, entry.repository() + "\n" + entry.token() + "\n", StandardCharsets.UTF_8);
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public void remove(Digest digest) throws IOException {
        Files.deleteIfExists(file(digest));
    }

    /** Every entry (uploads left over by an interrupted run). */
    public List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                int dash = name.indexOf('-');
                if (name.endsWith(".tmp") || dash < 0) {
                    continue;
                }
                String text = name.substring(0, dash) + ":" + name.substring(dash + 1);
                if (Digest.isDigest(text)) {
                    find(Digest.parse(text)).ifPresent(entries::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    public Path directory() {
        return directory;
    }

    private Path file(Digest digest) {
        return directory.resolve(digest.algorithm() + "-" + digest.hex());
    }
}
