package io.mirrorball.ipfs.embedded;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DagPb;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.UnixFs;
import io.mirrorball.ipfs.Varint;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The MFS commit log ({@code mfs-log}): one record per committed MFS root, each holding the new
 * root CID and the bytes of every block the mutation created (directory nodes, small files). A commit
 * is one append and one fsync of this file, instead of an fsync per block file; the block files
 * themselves are written normally and fsynced in bulk at the next checkpoint.
 *
 * <p>Record: {@code int length, int crc32c, payload}; payload: {@code varint cid length, cid,
 * varint block count, (varint length, bytes) per block}. On open, valid records are replayed (their
 * blocks rewritten when missing or short) and a torn tail left by a crash is cut off; the last valid
 * record is the root. When the log passes {@link #CHECKPOINT_BYTES}, the journaled block files and
 * their directories are fsynced and the log is atomically replaced by a single record of the
 * current root.
 */
final class RootLog implements AutoCloseable {
    static final long CHECKPOINT_BYTES = 8L * 1024 * 1024;
    private static final int MAX_RECORD = 256 * 1024 * 1024;

    private final Path file;
    private final Blockstore blocks;
    /** sha-256 digests of the blocks journaled since the last checkpoint. */
    private final List<byte[]> journaled = new ArrayList<>();
    private FileChannel channel;
    private long size;
    private Cid root;

    private RootLog(Path file, Blockstore blocks) {
        this.file = file;
        this.blocks = blocks;
    }

    /**
     * Opens the log, recovering the last committed root. A store without a log gets one: from the
     * older {@code mfs-root} pointer file when there is one, else with an empty root directory.
     */
    static RootLog open(Path file, Path legacyRootFile, Blockstore blocks) throws IOException {
        RootLog log = new RootLog(file, blocks);
        if (Files.exists(file)) {
            log.recover();
        } else if (Files.exists(legacyRootFile)) {
            String text = Files.readString(legacyRootFile, StandardCharsets.US_ASCII).trim();
            try {
                log.rewrite(Cid.parse(text), List.of());
            } catch (IllegalArgumentException e) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "MFS root file " + legacyRootFile
                        + " does not hold a CID: '" + text + "'", e);
            }
        } else {
            byte[] empty = UnixFs.emptyDirectoryBlock();
            blocks.putJournaled(empty);
            log.rewrite(UnixFs.cidOf(empty), List.of(empty));
        }
        log.channel = FileChannel.open(file, StandardOpenOption.WRITE);
        log.size = log.channel.size();
        return log;
    }

    Cid root() {
        return root;
    }

    /** Appends a record and makes it durable; the caller synced every other block the root references. */
    synchronized void commit(Cid newRoot, List<byte[]> newBlocks) throws IOException {
        byte[] record = record(newRoot, newBlocks);
        ByteBuffer buffer = ByteBuffer.wrap(record);
        long position = size;
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
        channel.force(false);
        size = position;
        root = newRoot;
        for (byte[] block : newBlocks) {
            journaled.add(UnixFs.sha256(block));
        }
        if (size > CHECKPOINT_BYTES) {
            checkpoint();
        }
    }

    /**
     * Checkpoints now (see {@link #checkpoint}): after gc, so that replay at the next open does not
     * write again the journaled blocks that gc removed.
     */
    synchronized void checkpointNow() throws IOException {
        checkpoint();
    }

    /** Makes every journaled block file durable, then replaces the log by one record of the root. */
    private void checkpoint() throws IOException {
        blocks.syncBlocks(journaled);
        channel.close();
        rewrite(root, List.of());
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
        size = channel.size();
        journaled.clear();
    }

    /** Atomically replaces the log by a single record. */
    private void rewrite(Cid newRoot, List<byte[]> newBlocks) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(record(newRoot, newBlocks));
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Blockstore.fsyncDirectory(file.getParent());
        root = newRoot;
        for (byte[] block : newBlocks) {
            journaled.add(UnixFs.sha256(block));
        }
    }

    private void recover() throws IOException {
        long valid = 0;
        try (InputStream raw = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
            while (true) {
                int length;
                int crc;
                byte[] payload;
                try {
                    length = in.readInt();
                    crc = in.readInt();
                    if (length < 0 || length > MAX_RECORD) {
                        break;
                    }
                    payload = in.readNBytes(length);
                } catch (EOFException end) {
                    break;
                }
                if (payload.length != length || crc32c(payload) != crc) {
                    break; // torn tail of a commit that never returned
                }
                replay(payload);
                valid += 8 + length;
            }
        }
        if (root == null) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "MFS log " + file + " holds no valid record");
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            if (out.size() > valid) {
                out.truncate(valid);
                out.force(true);
            }
        }
    }

    private void replay(byte[] payload) throws IOException {
        try {
            int[] pos = {0};
            Cid recordRoot = Cid.fromBytes(DagPb.lengthDelimited(payload, pos));
            long count = Varint.read(payload, pos);
            for (long i = 0; i < count; i++) {
                journaled.add(blocks.putJournaled(DagPb.lengthDelimited(payload, pos)));
            }
            root = recordRoot;
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "MFS log " + file + " has a record with a valid"
                    + " checksum that does not parse: " + e.getMessage(), e);
        }
    }

    private static byte[] record(Cid root, List<byte[]> newBlocks) {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        byte[] cid = root.bytes();
        Varint.write(payload, cid.length);
        payload.writeBytes(cid);
        Varint.write(payload, newBlocks.size());
        for (byte[] block : newBlocks) {
            Varint.write(payload, block.length);
            payload.writeBytes(block);
        }
        byte[] body = payload.toByteArray();
        ByteBuffer record = ByteBuffer.allocate(8 + body.length);
        record.putInt(body.length).putInt(crc32c(body)).put(body);
        return record.array();
    }

    private static int crc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    @Override
    public synchronized void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }
}
