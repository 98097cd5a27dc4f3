package io.mirrorball.ipfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Writes one CAR v1 holding the DAGs of several roots: a header naming all roots, then each root's
 * blocks, each block once however many DAGs share it. Every block is re-hashed against its CID
 * before it is written (a node's {@code dag export} does not verify), and only sha2-256 CIDs are
 * accepted. One block is in memory at a time; the CIDs already written are remembered (about 36
 * bytes of CID a block), not the blocks.
 *
 * <p>Blocks come from a {@link UnixFsReader.BlockSource} ({@link #copy}, a depth-first walk in link
 * order, as {@code dag export} does) or from a CAR such as a node's {@code dagExport}
 * ({@link #copyCar}). The writer does not close its output; {@link #finish} checks that every root
 * was copied and flushes. After a failed copy the CAR is incomplete and the writer refuses further use.
 */
public final class CarWriter {
    private final OutputStream out;
    private final Set<Cid> roots;
    private final Set<Cid> copied = new HashSet<>();
    private final Set<Cid> written = new HashSet<>();
    private final MessageDigest sha256 = VerifyingCarReader.sha256();
    private boolean failed;
    private boolean finished;

    private CarWriter(OutputStream out, Set<Cid> roots) {
        this.out = out;
        this.roots = roots;
    }

    /** Writes the header naming {@code roots} (at least one, distinct, sha2-256) to {@code out}. */
    public static CarWriter start(OutputStream out, List<Cid> roots) throws IOException {
        Objects.requireNonNull(out, "out");
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("a CAR needs at least one root");
        }
        Set<Cid> distinct = new LinkedHashSet<>();
        for (Cid root : roots) {
            if (!root.isSha256()) {
                throw new IpfsException(IpfsException.Kind.FAILED,
                        "root " + root + " is not a sha2-256 CID: only sha2-256 DAGs can be exported");
            }
            if (!distinct.add(root)) {
                throw new IllegalArgumentException("root " + root + " is named twice");
            }
        }
        CarWriter writer = new CarWriter(out, distinct);
        out.write(Car.header(List.copyOf(distinct)));
        return writer;
    }

    /**
     * Copies the DAG under {@code root}, one of the header's roots, reading its blocks from
     * {@code source}: a depth-first walk in link order that skips (with their subtrees) the blocks
     * already written. Blocks must be raw or dag-pb.
     */
    public void copy(Cid root, UnixFsReader.BlockSource source) throws IOException {
        beginCopy(root);
        try {
            Deque<Cid> stack = new ArrayDeque<>();
            stack.push(root);
            while (!stack.isEmpty()) {
                Cid cid = stack.pop();
                if (written.contains(cid)) {
                    continue; // and its subtree, written with it
                }
                if (!cid.isSha256()) {
                    throw new IpfsException(IpfsException.Kind.FAILED, "block " + cid + " under root " + root
                            + " is not a sha2-256 CID: only sha2-256 DAGs can be exported");
                }
                if (cid.codec() != Cid.DAG_PB && cid.codec() != Cid.RAW) {
                    throw new IpfsException(IpfsException.Kind.FAILED, "block " + cid + " under root " + root
                            + " is neither dag-pb nor raw: its links cannot be followed");
                }
                byte[] block = source.get(cid);
                verify(cid, block, root);
                if (cid.codec() == Cid.DAG_PB) {
                    List<DagPb.Link> links = DagPb.decode(cid, block).links();
                    for (int i = links.size() - 1; i >= 0; i--) {
                        stack.push(links.get(i).cid());
                    }
                }
                write(cid, block);
            }
            copied.add(root);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /**
     * Copies the sections of a CAR (a node's {@code dagExport} of one or more of the header's roots),
     * verified by {@link VerifyingCarReader}, skipping the blocks already written; returns its roots.
     * The stream is read to its end, not closed. The CAR is trusted to be complete.
     */
    public List<Cid> copyCar(InputStream car) throws IOException {
        ensureUsable();
        try {
            VerifyingCarReader reader = VerifyingCarReader.of(new InputStream() {
                @Override
                public int read() throws IOException {
                    return car.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return car.read(b, off, len);
                }
            });
            List<Cid> carRoots = reader.roots();
            for (Cid root : carRoots) {
                if (!roots.contains(root)) {
                    throw new IpfsException(IpfsException.Kind.FAILED,
                            "the copied CAR's root " + root + " is not one of the roots of the CAR being written");
                }
            }
            Optional<VerifyingCarReader.Section> section;
            while ((section = reader.nextSection()).isPresent()) {
                Cid cid = section.get().cid();
                if (!written.contains(cid)) {
                    write(cid, section.get().block());
                }
            }
            copied.addAll(carRoots);
            return carRoots;
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /** The number of blocks written so far. */
    public long blocksWritten() {
        return written.size();
    }

    /** Checks that every root of the header was copied, and flushes the output (which stays open). */
    public void finish() throws IOException {
        ensureUsable();
        for (Cid root : roots) {
            if (!copied.contains(root)) {
                failed = true;
                throw new IpfsException(IpfsException.Kind.FAILED, "root " + root + " was named in the CAR header but never copied");
            }
        }
        out.flush();
        finished = true;
    }

    private void beginCopy(Cid root) {
        ensureUsable();
        if (!roots.contains(root)) {
            throw new IllegalArgumentException("root " + root + " is not one of the roots in the CAR header");
        }
    }

    private void ensureUsable() {
        if (failed) {
            throw new IllegalStateException("an earlier copy failed: this CAR is incomplete");
        }
        if (finished) {
            throw new IllegalStateException("this CAR is finished");
        }
    }

    private void verify(Cid cid, byte[] block, Cid root) throws IpfsException {
        if (block.length > VerifyingCarReader.MAX_SECTION - 128) {
            throw new IpfsException(IpfsException.Kind.FAILED, "block " + cid + " under root " + root
                    + " is " + block.length + " bytes, over the 1 MiB block limit");
        }
        if (!MessageDigest.isEqual(sha256.digest(block), cid.sha256Digest())) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " under root " + root + " does not match its CID");
        }
    }

    private void write(Cid cid, byte[] block) throws IOException {
        byte[] cidBytes = cid.bytes();
        ByteArrayOutputStream prefix = new ByteArrayOutputStream(4 + cidBytes.length);
        Varint.write(prefix, (long) cidBytes.length + block.length);
        prefix.writeBytes(cidBytes);
        prefix.writeTo(out);
        out.write(block);
        written.add(cid);
    }
}
