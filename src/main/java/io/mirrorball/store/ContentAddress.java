package io.mirrorball.store;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.RepositoryName;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A repository named by content: a CIDv1 ({@code bafy...}, {@code bafk...}), an ipdr name ({@code ciq...},
 * base32 of a CIDv0 multihash), nerdctl's {@code ipfs/<cid>} (the same repository as {@code <cid>}), or a
 * manifest digest in hex (64 characters).
 *
 * @param cid null for a digest repository, which cannot be fetched from IPFS by name
 */
public record ContentAddress(String name, Cid cid) {
    private static final Pattern HEX = Pattern.compile("[a-f0-9]{64}");
    /** {@code ipfs/<cid>}: how nerdctl names an IPFS image in a registry ({@code nerdctl ipfs registry serve}). */
    static final String NERDCTL_PREFIX = "ipfs/";

    /** The content address a repository name stands for, or empty for an ordinary name. */
    public static Optional<ContentAddress> of(RepositoryName repository) {
        String name = repository.value();
        if (name.startsWith(NERDCTL_PREFIX) && name.indexOf('/', NERDCTL_PREFIX.length()) < 0) {
            // nerdctl's registry form of an IPFS image: the same repository as the CID alone
            return of(RepositoryName.parse(name.substring(NERDCTL_PREFIX.length()))).filter(a -> a.cid() != null);
        }
        if (name.indexOf('/') >= 0) {
            return Optional.empty();
        }
        if (HEX.matcher(name).matches()) {
            return Optional.of(new ContentAddress(name, null));
        }
        boolean cidLike = (name.startsWith("baf") && name.length() >= 50) || (name.startsWith("ciq") && name.length() == 55);
        if (!cidLike) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ContentAddress(name, Cid.parse(name)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** True for a name that looks content-addressed but is not a valid CID (NAME_INVALID). */
    public static boolean looksLikeBadCid(RepositoryName repository) {
        String name = repository.value();
        return name.indexOf('/') < 0 && (name.startsWith("bafy") || name.startsWith("bafk")
                || (name.startsWith("ciq") && name.length() >= 50)) && of(repository).isEmpty();
    }

    public boolean isDigest() {
        return cid == null;
    }
}
