package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.testing.KuboNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Import throughput of EmbeddedNode against plain SHA-256 of the same bytes (the limit: the importer
 * must hash every byte once) and against Kubo's {@code add}. Run by
 * tests/bench/embedded-import.sh. Usage: {@code ImportBench <bytes> <work dir> [kubo|nokubo]}.
 */
final class ImportBench {
    private static final int CHUNK = 262_144;

    private ImportBench() {
    }

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]);
        Path work = Path.of(args[1]);
        boolean kubo = args.length < 3 || args[2].equals("kubo");
        Files.createDirectories(work);
        byte[] base = new byte[64 * 1024 * 1024];
        new Random(1).nextBytes(base);

        // warm-up: JIT for both paths
        sha256(new Source(base, 256L * 1024 * 1024));
        try (EmbeddedNode warm = EmbeddedNode.open(work.resolve("warm"))) {
            warm.add(new Source(base, 256L * 1024 * 1024));
        }

        double shaSeconds = best(3, () -> sha256(new Source(base, size)));
        // every run writes into a new directory, and nothing is deleted until the end: on ext4 without a
        // journal, creating a file scans past the inodes freed in the last 30-180 s, so deleting the
        // last run's 4096 block files just before would slow this run's file creation down several times
        int[] run = new int[1];
        double[] commitSeconds = new double[1];
        Cid[] cid = new Cid[1];
        double addSeconds = best(3, () -> {
            Path store = work.resolve("store-" + run[0]++);
            try (EmbeddedNode node = EmbeddedNode.open(store)) {
                long start = System.nanoTime();
                cid[0] = node.add(new Source(base, size)).cid();
                long added = System.nanoTime();
                node.filesCp("/ipfs/" + cid[0], "/bench/data"); // fsyncs every block, then the root
                commitSeconds[0] = (System.nanoTime() - added) / 1e9;
                return (added - start) / 1e9;
            }
        });
        // read back from the last store: cat (every leaf checked against its digest) and catUnverified
        // (the bytes as stored, for a caller that checks the blob's digest: the gateway's GET)
        Path last = work.resolve("store-" + (run[0] - 1));
        double[] catSeconds = new double[2];
        try (EmbeddedNode node = EmbeddedNode.open(last)) {
            catSeconds[0] = best(3, () -> drain(node.cat(cid[0].toString(), 0, -1), size));
            catSeconds[1] = best(3, () -> drain(node.catUnverified(cid[0].toString(), 0, -1), size));
        }
        System.out.printf("bytes                 %d (%.0f MiB)%n", size, size / 1048576.0);
        System.out.printf("sha256 only           %.2f s  %.0f MB/s%n", shaSeconds, size / shaSeconds / 1e6);
        System.out.printf("embedded add          %.2f s  %.0f MB/s   cid %s%n", addSeconds, size / addSeconds / 1e6, cid[0]);
        System.out.printf("ratio add/sha256      %.2f  (throughput of add / throughput of sha256; target >= 0.8)%n",
                shaSeconds / addSeconds);
        System.out.printf("commit (fsync all)    %.2f s  (files/cp into MFS after the last add: syncs its blob file)%n",
                commitSeconds[0]);
        System.out.printf("durable add           %.0f MB/s  (add + commit; the disk's own floor: dd conv=fsync)%n",
                size / (addSeconds + commitSeconds[0]) / 1e6);
        System.out.printf("cat, leaves verified  %.2f s  %.0f MB/s   ratio to sha256 %.2f%n", catSeconds[0],
                size / catSeconds[0] / 1e6, shaSeconds / catSeconds[0]);
        System.out.printf("cat, unverified       %.2f s  %.0f MB/s   (the gateway checks the blob digest instead)%n",
                catSeconds[1], size / catSeconds[1] / 1e6);
        if (kubo) {
            Files.createDirectories(work.resolve("kubo"));
            try (KuboNode node = KuboNode.start(work.resolve("kubo"))) {
                KuboRpc rpc = new KuboRpc(node);
                long start = System.nanoTime();
                Cid real = rpc.add(() -> new Source(base, size));
                double kuboSeconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("Kubo add              %.2f s  %.0f MB/s   cid %s (%s)%n", kuboSeconds,
                        size / kuboSeconds / 1e6, real, real.equals(cid[0]) ? "same CID" : "DIFFERENT CID");
                System.out.printf("ratio add/Kubo add    %.2f  (embedded is %.1fx faster)%n", kuboSeconds / addSeconds,
                        kuboSeconds / addSeconds);
            }
        }
        delete(work.resolve("warm"));
        for (int i = 0; i < run[0]; i++) {
            delete(work.resolve("store-" + i));
        }
    }

    private interface Run {
        double seconds() throws Exception;
    }

    private static double best(int times, Run run) throws Exception {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < times; i++) {
            best = Math.min(best, run.seconds());
        }
        return best;
    }

    private static double drain(InputStream in, long size) throws Exception {
        long start = System.nanoTime();
        long total = 0;
        try (in) {
            byte[] buffer = new byte[128 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
            }
        }
        if (total != size) {
            throw new IllegalStateException("read " + total + " bytes, want " + size);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static double sha256(InputStream in) throws Exception {
        long start = System.nanoTime();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[CHUNK];
        int n;
        while ((n = in.readNBytes(buffer, 0, CHUNK)) > 0) {
            sha.update(buffer, 0, n);
        }
        sha.digest();
        return (System.nanoTime() - start) / 1e9;
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Bytes of a 64 MiB random buffer, repeated, with each chunk's first 8 bytes set to its index (no two chunks equal). */
    static final class Source extends InputStream {
        private final byte[] base;
        private final long size;
        private long position;

        Source(byte[] base, long size) {
            this.base = base;
            this.size = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int offset = (int) (position % base.length);
            int n = (int) Math.min(Math.min(len, base.length - offset), size - position);
            System.arraycopy(base, offset, b, off, n);
            for (int i = 0; i < n; i++) {
                long p = position + i;
                int inChunk = (int) (p % CHUNK);
                if (inChunk < 8) {
                    b[off + i] = (byte) ((p / CHUNK) >>> (8 * inChunk));
                } else {
                    i += CHUNK - inChunk - 1; // jump to the next chunk start
                }
            }
            position += n;
            return n;
        }
    }
}
