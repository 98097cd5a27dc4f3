package io.mirrorball.ui;

import io.mirrorball.ipfs.Cid;
import java.time.Instant;
import java.util.List;

/** The page of one image: its facts, where it is on IPFS, and how to pull it. */
public record ImagePage(Header header, Image image, List<PullCommand> commands) {
    public ImagePage {
        commands = List.copyOf(commands);
    }

    /**
     * An image of a repository.
     *
     * @param tag  the tag it was asked by, or null when asked by digest
     * @param cid  the CID of its published image, or null when it has none here
     * @param ipdrCid the CID of the image in ipdr's layout, or null when it has none here
     * @param time when the tag was pushed or last pulled, or null
     */
    public record Image(RepositoryRow repository, String tag, ImageFacts facts, Cid cid, Cid ipdrCid, Instant time) {
        /** {@code name:tag} or {@code name@digest}. */
        public String reference() {
            return repository.name() + (tag != null ? ":" + tag : "@" + facts.digest());
        }

        public String timeText() {
            return time == null ? "" : TimeText.of(time);
        }

        public String timeIso() {
            return time == null ? "" : time.toString();
        }
    }

    /** The commands of one client, in the order tag, digest, CID. */
    public List<PullCommand> commandsOf(String client) {
        return commands.stream().filter(c -> c.client().equals(client)).toList();
    }
}
