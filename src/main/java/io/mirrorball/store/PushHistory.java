package io.mirrorball.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.RepositoryName;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When each tag was last pushed here, and the most recent pushes: what the registry's web page shows
 * (MFS keeps no times). One JSON line per manifest PUT in {@code pushes.jsonl} beside the uploads, local
 * to this instance; a line torn by a crash is skipped. On open, a file grown past {@link #COMPACT_AT}
 * is rewritten with the last push of every tag, of every image to each repository, and the {@link #RECENT}
 * most recent pushes.
 *
 * <p>This is a display record, not registry state: losing it loses the times, never an image.
 */
public final class PushHistory {
    private static final Logger LOG = LoggerFactory.getLogger(PushHistory.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int RECENT = 50;
    static final long COMPACT_AT = 4L * 1024 * 1024;

    /** One push: the tag is null for a push by digest; the CID is null when nothing was published. */
    public record Push(Instant at, RepositoryName repository, String tag, Digest digest, Cid cid) {
    }

    private record TagKey(RepositoryName repository, String tag) {
    }

    private final Path file;
    private final Clock clock;
    private final Map<TagKey, Push> lastPerTag = new ConcurrentHashMap<>();
    /** The last push of each image to each repository: which repositories a published CID came from. */
    private final Map<Cid, Map<RepositoryName, Push>> byCid = new ConcurrentHashMap<>();
    private final Deque<Push> recent = new ArrayDeque<>();

    private PushHistory(Path file, Clock clock) {
        this.file = file;
        this.clock = clock;
    }

    /** The history in {@code dir} (created when missing), read and compacted when it grew large. */
    public static PushHistory open(Path dir, Clock clock) throws IOException {
        Files.createDirectories(dir);
        PushHistory history = new PushHistory(dir.resolve("pushes.jsonl"), clock);
        history.load();
        return history;
    }

    /** Records a push that succeeded. Never fails the push: a write error is logged. */
    public void pushed(RepositoryName repository, String tag, Digest digest, Cid cid) {
        Push push = new Push(clock.instant(), repository, tag, digest, cid);
        remember(push);
        synchronized (this) {
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND)) {
                out.write(line(push));
            } catch (IOException e) {
                LOG.warn("push history: cannot append to {}: {}", file, e.toString());
            }
        }
    }

    /** The last push of a tag here, if this instance saw one. */
    public Optional<Push> lastPush(RepositoryName repository, String tag) {
        return Optional.ofNullable(lastPerTag.get(new TagKey(repository, tag)));
    }

    /** The repositories this instance published the image of this CID for; empty when it knows none. */
    public Set<RepositoryName> repositoriesOf(Cid cid) {
        Map<RepositoryName, Push> pushes = byCid.get(cid);
        return pushes == null ? Set.of() : Set.copyOf(pushes.keySet());
    }

    /**
     * Whether some push of this CID's image here was by tag: an image pushed by digest only is usually a
     * platform image of a multi-platform push (its index was pushed by tag).
     */
    public boolean pushedByTag(Cid cid) {
        Map<RepositoryName, Push> pushes = byCid.get(cid);
        return pushes != null && pushes.values().stream().anyMatch(p -> p.tag() != null)
                || lastPerTag.values().stream().anyMatch(p -> cid.equals(p.cid()));
    }

    /** The most recent pushes, newest first (at most {@link #RECENT}). */
    public synchronized List<Push> recent() {
        return List.copyOf(recent);
    }

    private void remember(Push push) {
        if (push.cid() != null) {
            byCid.computeIfAbsent(push.cid(), c -> new ConcurrentHashMap<>()).put(push.repository(), push);
        }
        if (push.tag() != null) {
            lastPerTag.merge(new TagKey(push.repository(), push.tag()), push,
                    (old, now) -> now.at().isBefore(old.at()) ? old : now);
        }
        synchronized (this) {
            recent.addFirst(push);
            while (recent.size() > RECENT) {
                recent.removeLast();
            }
        }
    }

    private void load() throws IOException {
        List<Push> all = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            while ((text = in.readLine()) != null) {
                parse(text).ifPresent(all::add);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        all.forEach(this::remember);
        if (Files.size(file) > COMPACT_AT) {
            compact();
        } else {
            endWithNewline();
        }
    }

    /** After a crash cut the last line short: ends it, so that the next push starts a line of its own. */
    private void endWithNewline() throws IOException {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            if (size == 0) {
                return;
            }
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            channel.read(last, size - 1);
            if (last.get(0) != '\n') {
                channel.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), size);
            }
        }
    }

    /** Rewrites the file with what is remembered, replacing it atomically. */
    private synchronized void compact() throws IOException {
        Set<Push> kept = new HashSet<>(lastPerTag.values());
        kept.addAll(recent);
        byCid.values().forEach(pushes -> kept.addAll(pushes.values()));
        List<Push> keep = new ArrayList<>(kept);
        keep.sort((a, b) -> a.at().compareTo(b.at()));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (Push push : keep) {
                out.write(line(push));
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String line(Push push) {
        ObjectNode node = JSON.createObjectNode();
        node.put("at", push.at().toString());
        node.put("repository", push.repository().value());
        if (push.tag() != null) {
            node.put("tag", push.tag());
        }
        node.put("digest", push.digest().toString());
        if (push.cid() != null) {
            node.put("cid", push.cid().toString());
        }
        try {
            return JSON.writeValueAsString(node) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A line of the file, or empty when it is torn or not one of ours. */
    static Optional<Push> parse(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                return Optional.empty();
            }
            String tag = node.path("tag").isTextual() ? node.path("tag").asText() : null;
            if (tag != null && !io.mirrorball.oci.Reference.isTag(tag)) {
                return Optional.empty();
            }
            Cid cid = node.path("cid").isTextual() ? Cid.parse(node.path("cid").asText()) : null;
            return Optional.of(new Push(Instant.parse(node.path("at").asText()),
                    RepositoryName.parse(node.path("repository").asText()), tag,
                    Digest.parse(node.path("digest").asText()), cid));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
