package io.mirrorball.ipfs;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A range of a UnixFS file read block by block through {@link IpfsNode#blockGet}, each block
 * checked against its CID before a byte of it is used. A part of a blob cannot be checked against
 * the blob's digest, but it can be checked against the Merkle DAG whose root CID came from
 * importing the verified blob: this is how Range requests are verified.
 */
public final class VerifiedRange {
    private VerifiedRange() {
    }

    /** {@code length} bytes (or all, for -1) of the file {@code root} from {@code offset}. */
    public static InputStream open(IpfsNode node, Cid root, long offset, long length) throws IOException {
        return UnixFsReader.open(cid -> verified(cid, node.blockGet(cid)), root, offset, length);
    }

    private static byte[] verified(Cid cid, byte[] block) throws IpfsException {
        if (!cid.isSha256()) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, "cannot verify " + cid + ": not sha2-256");
        }
        try {
            byte[] actual = MessageDigest.getInstance("SHA-256").digest(block);
            if (!Arrays.equals(actual, cid.sha256Digest())) {
                throw new IpfsException(IpfsException.Kind.CORRUPT, "block " + cid + " does not match its CID");
            }
            return block;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JVM without SHA-256", e);
        }
    }
}
