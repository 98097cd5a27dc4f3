package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The child process of {@link EmbeddedNodeCrashTest#killDashNine_duringLargeAddsAndCopies_everyAckedFileSurvivesAndNothingIsLeftOver}:
 * adds files of about 64 MiB to an embedded node and copies each into MFS, until it is killed. It
 * prints {@code adding <i>} before an add, {@code added <i> <cid>} after it (the files/cp follows),
 * and {@code ack <i> <cid>} once the copy is committed. Every third file has the same content as the
 * one before it, so that an import replaces the blob file of an identical one. Odd files go through
 * startAdd in pieces of 1 MiB, even ones through add.
 * Usage: {@code LargeAddCrashWriter <node dir> <first index>}.
 */
final class LargeAddCrashWriter {
    static final long BASE = 64L * 1024 * 1024;

    private LargeAddCrashWriter() {
    }

    /** The seed of file i's content (every third file repeats the one before it). */
    static long seed(int i) {
        return i % 3 == 2 ? seed(i - 1) : 1_000_000L + i;
    }

    /** The length of file i: 64 MiB and a bit, so that its last leaf is short. */
    static long size(int i) {
        return BASE + 7 * (seed(i) % 1000) + 1;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int first = Integer.parseInt(args[1]);
        try (EmbeddedNode node = EmbeddedNode.open(dir)) {
            System.out.println("ready");
            System.out.flush();
            byte[] piece = new byte[1024 * 1024];
            for (int i = first; i < first + 100_000; i++) {
                System.out.println("adding " + i);
                System.out.flush();
                Cid cid;
                try (InputStream in = TestBytes.of(seed(i), size(i))) {
                    cid = TestBytes.add(node, in, i % 2 != 0, piece);
                }
                System.out.println("added " + i + " " + cid);
                System.out.flush();
                node.filesCp("/ipfs/" + cid, "/big/" + i);
                System.out.println("ack " + i + " " + cid);
                System.out.flush();
            }
        }
    }
}
