package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The set of recursively pinned roots, persisted as one CID per line in a file that is replaced
 * atomically. A root is only recorded after every block under it was found locally and synced.
 */
final class Pins {
    private final Path file;
    private final Set<Cid> roots;

    private Pins(Path file, Set<Cid> roots) {
        this.file = file;
        this.roots = roots;
    }

    static Pins open(Path file) throws IOException {
        Set<Cid> roots = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    try {
                        roots.add(Cid.parse(line.trim()));
                    } catch (IllegalArgumentException e) {
                        throw new IpfsException(IpfsException.Kind.CORRUPT, "pin file " + file + " holds '" + line + "'", e);
                    }
                }
            }
        } catch (NoSuchFileException none) {
            // no pins yet
        }
        return new Pins(file, roots);
    }

    synchronized List<Cid> roots() {
        return List.copyOf(roots);
    }

    synchronized boolean contains(Cid cid) {
        return roots.contains(cid);
    }

    /** Records a pin; the caller made sure the DAG is complete and its blocks are synced. */
    synchronized void add(Cid cid) throws IOException {
        if (roots.add(cid)) {
            try {
                persist();
            } catch (IOException e) {
                roots.remove(cid);
                throw e;
            }
        }
    }

    synchronized void remove(Cid cid) throws IOException {
        if (roots.remove(cid)) {
            try {
                persist();
            } catch (IOException e) {
                roots.add(cid);
                throw e;
            }
        }
    }

    private void persist() throws IOException {
        StringBuilder text = new StringBuilder();
        for (Cid root : roots) {
            text.append(root).append('\n');
        }
        Blockstore.writeAtomically(file, text.toString().getBytes(StandardCharsets.US_ASCII));
    }
}
