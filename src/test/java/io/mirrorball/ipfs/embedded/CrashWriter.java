package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child process of {@link EmbeddedNodeCrashTest}: writes to an embedded node in a loop and prints
 * {@code ack <i> <cid>} after each write is committed, until it is killed.
 * Usage: {@code CrashWriter <node dir> <first index>}.
 */
final class CrashWriter {
    private CrashWriter() {
    }

    /** Size of write number i: every fourth one spans several chunks. */
    static long size(int i) {
        return i % 4 == 0 ? 600_000 + i : 100 + 7L * i;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int first = Integer.parseInt(args[1]);
        try (EmbeddedNode node = EmbeddedNode.open(dir)) {
            System.out.println("ready");
            System.out.flush();
            for (int i = first; i < first + 100_000; i++) {
                Cid cid;
                try (InputStream in = TestBytes.of(i, size(i))) {
                    cid = node.add(in).cid();
                }
                node.filesCp("/ipfs/" + cid, "/w/" + i);
                if (i % 5 == 0) {
                    node.pinAdd(cid);
                }
                node.filesWrite("/links/" + i, cid.toString().getBytes(StandardCharsets.US_ASCII));
                System.out.println("ack " + i + " " + cid);
                System.out.flush();
            }
        }
    }
}
