package io.mirrorball.ipfs;

import java.util.Map;

/**
 * When and how a UnixFS directory is HAMT-sharded, with the meaning of Kubo's {@code Import}
 * settings (boxo {@code ipld/unixfs/io/directory.go}): a directory is a HAMT when sharding is on
 * ({@code threshold > 0}) and either its size estimate exceeds {@code threshold} (strictly: a
 * directory exactly at the threshold stays basic) or {@code maxLinks > 0} and it has more entries
 * than that. Shards use the murmur3-x64-64 hash of the entry name and {@code fanout} slots.
 *
 * @param threshold      {@code Import.UnixFSHAMTDirectorySizeThreshold} in bytes; 0 never shards
 * @param fanout         {@code Import.UnixFSHAMTDirectoryMaxFanout}: a power of 2, multiple of 8, at most 1024
 * @param sizeEstimation {@code Import.UnixFSHAMTDirectorySizeEstimation}
 * @param maxLinks       {@code Import.UnixFSDirectoryMaxLinks}; 0 for no limit
 */
public record DirectoryParams(long threshold, int fanout, SizeEstimation sizeEstimation, int maxLinks) {
    /** Kubo's defaults (v0.43): 256 KiB, fanout 256, {@code links} estimation, no link limit. */
    public static final DirectoryParams KUBO_DEFAULTS = new DirectoryParams(262_144, 256, SizeEstimation.LINKS, 0);

    /** How a basic directory's size is estimated against the threshold. */
    public enum SizeEstimation {
        /** Sum of each entry's UTF-8 name length plus binary CID length (Kubo's default, {@code links}). */
        LINKS("links"),
        /** The exact dag-pb block size of the basic directory ({@code block}, IPIP-499). */
        BLOCK("block"),
        /** No size estimate: only {@code maxLinks} shards ({@code disabled}). */
        DISABLED("disabled");

        private final String kuboName;

        SizeEstimation(String kuboName) {
            this.kuboName = kuboName;
        }

        /** The value of {@code Import.UnixFSHAMTDirectorySizeEstimation}. */
        public String kuboName() {
            return kuboName;
        }
    }

    public DirectoryParams {
        if (threshold < 0) {
            throw new IllegalArgumentException("HAMT threshold must not be negative: " + threshold);
        }
        if (fanout < 8 || fanout > 1024 || Integer.bitCount(fanout) != 1) {
            throw new IllegalArgumentException("HAMT fanout must be a power of 2 between 8 and 1024: " + fanout);
        }
        if (sizeEstimation == null) {
            throw new IllegalArgumentException("HAMT size estimation must be set");
        }
        if (maxLinks < 0) {
            throw new IllegalArgumentException("directory max links must not be negative: " + maxLinks);
        }
    }

    /** Kubo's {@code Import} config keys and JSON values that build directories with these parameters. */
    public Map<String, String> kuboConfig() {
        return Map.of(
                "Import.UnixFSHAMTDirectorySizeThreshold", "\"" + threshold + "B\"",
                "Import.UnixFSHAMTDirectoryMaxFanout", Integer.toString(fanout),
                "Import.UnixFSHAMTDirectorySizeEstimation", "\"" + sizeEstimation.kuboName() + "\"",
                "Import.UnixFSDirectoryMaxLinks", Integer.toString(maxLinks));
    }
}
