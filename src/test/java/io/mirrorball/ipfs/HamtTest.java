package io.mirrorball.ipfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class HamtTest {
    private static final Cid TARGET = Cid.sha256(Cid.RAW, new byte[32]);

    /** Expected values from Go's github.com/spaolacci/murmur3 v1.1.0 {@code New64().Sum(nil)}, as boxo hashes names. */
    @ParameterizedTest(name = "''{0}''")
    @CsvSource({
            "'', 0000000000000000",
            "a, 85555565f6597889",
            "hello, cbd8a7b341bd9b02",
            "0123456789abcdef, 4be06d94cf4ad1a7",
            "0123456789abcdefX, cdebd2acb570d6f7",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, 5826af1a4f82a3bf"})
    void murmur3x64_64_knownNames_matchGo(String name, String expected) {
        assertEquals(expected, HexFormat.of().withLowerCase()
                .toHexDigits(Hamt.murmur3x64_64(name.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void slot_readsBitsMostSignificantFirst() {
        long hash = 0xcbd8a7b341bd9b02L;
        assertEquals(0xcb, Hamt.slot(hash, 0, 8));
        assertEquals(0xd8, Hamt.slot(hash, 8, 8));
        assertEquals(0xcbd >> 2, Hamt.slot(hash, 0, 10));
        assertEquals(0x02, Hamt.slot(hash, 56, 8));
    }

    @Test
    void directory_overThreshold_isAShardWhoseLinksLeadToEveryEntry() {
        List<DagPb.Link> links = entries(300);
        DirectoryParams params = new DirectoryParams(1_000, 16, DirectoryParams.SizeEstimation.LINKS, 0);

        UnixFs.Directory directory = UnixFs.directory(links, params);

        assertTrue(directory.sharded());
        UnixFs.Meta meta = UnixFs.parse(DagPb.decode(directory.root()).data());
        assertEquals(UnixFs.TYPE_HAMT_SHARD, meta.type());
        assertEquals(0x22, meta.hashType());
        assertEquals(16, meta.fanout());
        assertEquals("ffff", HexFormat.of().formatHex(meta.data()), "every slot of 16 is used by 300 names");
        Map<Cid, byte[]> blocks = new HashMap<>();
        directory.blocks().forEach(b -> blocks.put(UnixFs.cidOf(b), b));
        List<String> found = new ArrayList<>();
        collect(directory.root(), blocks, found);
        assertEquals(links.stream().map(DagPb.Link::name).sorted().toList(), found.stream().sorted().toList());
        assertEquals(UnixFs.cumulativeSize(directory.root()),
                directory.blocks().stream().mapToLong(b -> b.length).sum() + 300 * 7L, "Tsize covers shards and entries");
    }

    @Test
    void directory_thresholdZero_neverShards() {
        DirectoryParams off = new DirectoryParams(0, 256, DirectoryParams.SizeEstimation.LINKS, 10);
        assertFalse(UnixFs.directory(entries(3_000), off).sharded());
    }

    @Test
    void directory_maxLinksExceeded_shardsEvenWithoutSizeEstimate() {
        DirectoryParams params = new DirectoryParams(262_144, 256, DirectoryParams.SizeEstimation.DISABLED, 20);
        assertFalse(UnixFs.directory(entries(20), params).sharded());
        assertTrue(UnixFs.directory(entries(21), params).sharded());
    }

    @Test
    void directory_duplicateNameInAShard_isRefused() {
        List<DagPb.Link> links = new ArrayList<>(entries(300));
        links.add(new DagPb.Link("entry-7", TARGET, 1));
        assertThrows(IllegalArgumentException.class, () -> UnixFs.directory(links,
                new DirectoryParams(1_000, 256, DirectoryParams.SizeEstimation.LINKS, 0)));
    }

    @Test
    void directoryParams_invalidFanout_isRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DirectoryParams(1, 100, DirectoryParams.SizeEstimation.LINKS, 0));
        assertThrows(IllegalArgumentException.class, () -> new DirectoryParams(1, 4, DirectoryParams.SizeEstimation.LINKS, 0));
        assertThrows(IllegalArgumentException.class, () -> new DirectoryParams(1, 2048, DirectoryParams.SizeEstimation.LINKS, 0));
    }

    private static List<DagPb.Link> entries(int count) {
        List<DagPb.Link> links = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            links.add(new DagPb.Link("entry-" + i, TARGET, 7));
        }
        return links;
    }

    private static void collect(byte[] shard, Map<Cid, byte[]> blocks, List<String> names) {
        for (DagPb.Link link : DagPb.decode(shard).links()) {
            if (link.name().length() == 1) {
                collect(blocks.get(link.cid()), blocks, names);
            } else {
                names.add(link.name().substring(1));
            }
        }
    }
}
