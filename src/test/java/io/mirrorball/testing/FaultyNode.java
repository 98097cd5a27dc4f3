package io.mirrorball.testing;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection only: a real node whose block/put fails once a budget of calls is used up, and
 * whose block/get can hand out a tampered block.
 */
public final class FaultyNode implements IpfsNode {
    private final IpfsNode real;
    private final AtomicInteger blockPutsLeft = new AtomicInteger(Integer.MAX_VALUE);
    private volatile Cid tampered;

    public FaultyNode(IpfsNode real) {
        this.real = real;
    }

    public void failBlockPutAfter(int calls) {
        blockPutsLeft.set(calls);
    }

    /** From now on block/get of this CID returns its bytes with the first byte flipped. */
    public void tamperWith(Cid cid) {
        tampered = cid;
    }

    public void heal() {
        blockPutsLeft.set(Integer.MAX_VALUE);
        tampered = null;
    }

    @Override
    public Cid blockPut(byte[] block, long codec) throws IOException {
        if (blockPutsLeft.getAndDecrement() <= 0) {
            throw new IpfsException(IpfsException.Kind.UNAVAILABLE, "injected: node went away during block/put");
        }
        return real.blockPut(block, codec);
    }

    @Override
    public Added add(InputStream content) throws IOException {
        return real.add(content);
    }

    @Override
    public InputStream cat(String cidPath, long offset, long length) throws IOException {
        return real.cat(cidPath, offset, length);
    }

    @Override
    public byte[] blockGet(Cid cid) throws IOException {
        byte[] block = real.blockGet(cid);
        if (cid.equals(tampered) && block.length > 0) {
            block = block.clone();
            block[0] ^= 1;
        }
        return block;
    }

    @Override
    public Optional<Long> blockStat(Cid cid) throws IOException {
        return real.blockStat(cid);
    }

    @Override
    public void filesMkdir(String path) throws IOException {
        real.filesMkdir(path);
    }

    @Override
    public void filesWrite(String path, byte[] content) throws IOException {
        real.filesWrite(path, content);
    }

    @Override
    public InputStream filesRead(String path, long offset, long length) throws IOException {
        return real.filesRead(path, offset, length);
    }

    @Override
    public Optional<FileStat> filesStat(String path) throws IOException {
        return real.filesStat(path);
    }

    @Override
    public List<FileEntry> filesLs(String path) throws IOException {
        return real.filesLs(path);
    }

    @Override
    public void filesCp(String from, String to) throws IOException {
        real.filesCp(from, to);
    }

    @Override
    public void filesMv(String from, String to) throws IOException {
        real.filesMv(from, to);
    }

    @Override
    public void filesRm(String path) throws IOException {
        real.filesRm(path);
    }

    @Override
    public Cid filesFlush(String path) throws IOException {
        return real.filesFlush(path);
    }

    @Override
    public void pinAdd(Cid cid) throws IOException {
        real.pinAdd(cid);
    }

    @Override
    public void pinRm(Cid cid) throws IOException {
        real.pinRm(cid);
    }

    @Override
    public InputStream dagExport(Cid root) throws IOException {
        return real.dagExport(root);
    }

    @Override
    public List<Cid> dagImport(InputStream car) throws IOException {
        return real.dagImport(car);
    }

    @Override
    public NodeId id() throws IOException {
        return real.id();
    }

    @Override
    public String version() throws IOException {
        return real.version();
    }

    @Override
    public void close() throws IOException {
        real.close();
    }
}
