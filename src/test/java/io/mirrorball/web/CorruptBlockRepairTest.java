package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.cli.FsckCommand;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 9, a corrupt block is never repaired: one byte flipped in a block file of the embedded node
 * (same length) made every GET a 502 while every re-push answered 201, and fsck reported nothing.
 */
final class CorruptBlockRepairTest {
    private static final int CHUNK = 262_144;

    @TempDir
    Path tmp;
    private TestGateway gateway;
    private final byte[] blob = RegistryClient.randomBytes(2 * CHUNK + 1000); // a dag-pb root and three raw leaves
    private final Digest digest = Digest.ofBytes(blob);

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start("embedded", "/t-" + UUID.randomUUID(), tmp, Map.of());
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    /** The embedded node's blob file that holds the blob's leaves (the only one of its size). */
    private Path blobFile() throws Exception {
        try (Stream<Path> files = Files.list(tmp.resolve("ipfs-embedded/blobs"))) {
            List<Path> found = files.filter(f -> f.toString().endsWith(".data") && f.toFile().length() == blob.length)
                    .toList();
            assertEquals(1, found.size(), "blob files of " + blob.length + " bytes: " + found);
            return found.get(0);
        }
    }

    /** Flips one byte in the middle of the blob's {@code index}th chunk, in its blob file (same length). */
    private void flipOneByteOfLeaf(int index) throws Exception {
        try (FileChannel channel = FileChannel.open(blobFile(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = index * (long) CHUNK + Math.min(CHUNK, blob.length - index * CHUNK) / 2;
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, at);
        }
    }

    private record Run(int code, String out) {
    }

    private Run fsck(String... more) {
        StringWriter out = new StringWriter();
        String[] args = new String[4 + more.length];
        args[0] = "--path";
        args[1] = tmp.resolve("ipfs-embedded").toString();
        args[2] = "--mfs-root";
        args[3] = gateway.mfsRoot();
        System.arraycopy(more, 0, args, 4, more.length);
        int code = new CommandLine(new FsckCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(out))
                .execute(args);
        return new Run(code, out.toString());
    }

    @Test
    void rePush_ofBlobWhoseBlockIsCorruptOnDisk_restoresIt() throws Exception {
        RegistryClient client = gateway.client();
        client.pushBlob("app", blob);
        flipOneByteOfLeaf(0);

        // the blob is read as stored and checked against its digest while it is sent: the last bytes are
        // withheld, so the client gets a 502 (small blobs) or a body cut short (here), never the whole blob
        try {
            HttpResponse<byte[]> corrupt = client.get("/v2/app/blobs/" + digest);
            assertEquals(502, corrupt.statusCode(), "GET of the corrupt blob");
        } catch (java.io.UncheckedIOException cutShort) {
            assertTrue(String.valueOf(cutShort.getMessage()).contains("bytes received"), cutShort.toString());
        }
        RegistryClient.assertOciError(client.get("/v2/app/blobs/" + digest), 404, "BLOB_UNKNOWN");
        client.pushBlob("app", blob);
        HttpResponse<byte[]> got = client.get("/v2/app/blobs/" + digest);
        RegistryClient.expect(got, 200, "GET after the re-push");
        assertArrayEquals(blob, got.body());
    }

    @Test
    void rePush_whileTheCorruptBlobIsStillListed_restoresIt() throws Exception {
        RegistryClient client = gateway.client();
        client.pushBlob("app", blob);
        flipOneByteOfLeaf(2);

        client.pushBlobInSession("app", blob);
        HttpResponse<byte[]> got = client.get("/v2/app/blobs/" + digest);
        RegistryClient.expect(got, 200, "GET after the re-push");
        assertArrayEquals(blob, got.body());
    }

    @Test
    void fsck_findsCorruptBlockAndDanglingLinks_repairRemovesThem_rePushRestores() throws Exception {
        RegistryClient client = gateway.client();
        client.pushBlob("app", blob);
        TestImages.Image image = client.pushImage("org/other", "v1", 1); // sound content stays
        flipOneByteOfLeaf(1);
        gateway.close();

        Run found = fsck();
        assertEquals(1, found.code(), found.out());
        assertTrue(found.out().contains("1 corrupt"), found.out());
        assertTrue(found.out().contains("lost " + gateway.mfsRoot() + "/blobs/sha256/"), found.out());
        assertTrue(found.out().contains("lost " + gateway.mfsRoot() + "/repositories/app/_layers/sha256/"
                + digest.hex()), found.out());
        Path damaged = blobFile();
        assertTrue(Files.exists(damaged), "fsck without --repair changes nothing");

        Run repaired = fsck("--repair");
        assertEquals(1, repaired.code(), repaired.out());
        assertTrue(repaired.out().contains("1 corrupt block files removed"), repaired.out());
        assertTrue(repaired.out().contains("removed " + gateway.mfsRoot() + "/repositories/app/_layers/sha256/"
                + digest.hex()), repaired.out());
        assertTrue(Files.notExists(damaged), "the blob file with the corrupt leaf is gone");
        Run clean = fsck();
        assertEquals(0, clean.code(), clean.out());

        gateway = gateway.restart();
        client = gateway.client();
        assertEquals(404, client.head("/v2/app/blobs/" + digest).statusCode(), "the dangling link was removed");
        client.pushBlob("app", blob);
        HttpResponse<byte[]> got = client.get("/v2/app/blobs/" + digest);
        RegistryClient.expect(got, 200, "GET after the re-push");
        assertArrayEquals(blob, got.body());
        HttpResponse<byte[]> manifest = client.get("/v2/org/other/manifests/v1", "Accept", image.mediaType());
        RegistryClient.expect(manifest, 200, "the sound image");
        assertArrayEquals(image.manifest(), manifest.body());
    }
}
