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
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
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

    /** The block file of the blob's {@code index}th chunk. */
    private Path leafFile(int index) {
        byte[] chunk = Arrays.copyOfRange(blob, index * CHUNK, Math.min(blob.length, (index + 1) * CHUNK));
        String hex = HexFormat.of().formatHex(RegistryClient.sha256().digest(chunk));
        return tmp.resolve("ipfs-embedded/blocks").resolve(hex.substring(0, 2)).resolve(hex);
    }

    private static void flipOneByte(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
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
        flipOneByte(leafFile(0));

        RegistryClient.expect(client.get("/v2/app/blobs/" + digest), 502, "GET of the corrupt blob");
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
        flipOneByte(leafFile(2));

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
        flipOneByte(leafFile(1));
        gateway.close();

        Run found = fsck();
        assertEquals(1, found.code(), found.out());
        assertTrue(found.out().contains("1 corrupt"), found.out());
        assertTrue(found.out().contains("lost " + gateway.mfsRoot() + "/blobs/sha256/"), found.out());
        assertTrue(found.out().contains("lost " + gateway.mfsRoot() + "/repositories/app/_layers/sha256/"
                + digest.hex()), found.out());
        assertTrue(Files.exists(leafFile(1)), "fsck without --repair changes nothing");

        Run repaired = fsck("--repair");
        assertEquals(1, repaired.code(), repaired.out());
        assertTrue(repaired.out().contains("1 corrupt block files removed"), repaired.out());
        assertTrue(repaired.out().contains("removed " + gateway.mfsRoot() + "/repositories/app/_layers/sha256/"
                + digest.hex()), repaired.out());
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
