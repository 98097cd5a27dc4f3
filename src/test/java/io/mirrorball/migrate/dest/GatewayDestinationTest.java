package io.mirrorball.migrate.dest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.migrate.FailureKind;
import io.mirrorball.migrate.MigrateException;
import io.mirrorball.migrate.source.Fetched;
import io.mirrorball.oci.Descriptor;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.testing.HtpasswdFile;
import io.mirrorball.web.TestGateway;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway destination against a real gateway (on the shared Kubo test node). */
final class GatewayDestinationTest {
    private static final RepositoryName APP = RepositoryName.parse("org/app");

    @TempDir
    Path tmp;

    private TestGateway gateway;
    private GatewayDestination destination;

    @BeforeEach
    void start() throws Exception {
        gateway = TestGateway.start(tmp);
        destination = GatewayDestination.connect(gateway.uri().toString(), Optional.empty(), 2);
    }

    @AfterEach
    void stop() throws Exception {
        destination.close();
        gateway.close();
    }

    @Test
    void ensureBlob_thenUpload_thenAnotherRepository_isLinkedByMount() throws Exception {
        byte[] bytes = random(300_000, 1);
        Descriptor blob = Descriptor.of(MediaTypes.OCI_LAYER_TAR_GZIP, Digest.ofBytes(bytes), bytes.length);

        BlobPlan plan = destination.ensureBlob(APP, blob);
        BlobPlan.Upload upload = assertInstanceOf(BlobPlan.Upload.class, plan);
        assertEquals(0, upload.offset());
        destination.upload(APP, upload, blob, new ByteArrayInputStream(bytes));

        assertTrue(destination.hasBlob(APP, blob.digest()));
        RepositoryName other = RepositoryName.parse("other");
        assertEquals(false, destination.hasBlob(other, blob.digest()));
        assertInstanceOf(BlobPlan.Linked.class, destination.ensureBlob(other, blob));
        assertTrue(destination.hasBlob(other, blob.digest()));
    }

    /** A copy cut off mid-blob keeps what arrived: resume reports it, and the rest completes the blob. */
    @Test
    void upload_cutOffMidBlob_resumeGivesTheOffsetAndTheRestCompletes() throws Exception {
        byte[] bytes = random(3 << 20, 2);
        Descriptor blob = Descriptor.of(MediaTypes.OCI_LAYER_TAR_GZIP, Digest.ofBytes(bytes), bytes.length);
        BlobPlan.Upload upload = (BlobPlan.Upload) destination.ensureBlob(APP, blob);
        int cut = 1 << 20;

        assertThrows(IOException.class, () -> destination.upload(APP, upload, blob, failingAfter(bytes, cut)));
        Thread.sleep(500); // the gateway notices the closed connection and ends that request's write

        BlobPlan.Upload resumed = destination.resume(APP, upload.token()).orElseThrow();
        assertTrue(resumed.offset() > 0 && resumed.offset() <= cut, "kept " + resumed.offset());
        destination.upload(APP, resumed, blob, new ByteArrayInputStream(bytes, (int) resumed.offset(),
                bytes.length - (int) resumed.offset()));
        assertTrue(destination.hasBlob(APP, blob.digest()));
        assertEquals(Optional.empty(), destination.resume(APP, upload.token()), "the session ended with the blob");
    }

    @Test
    void upload_wrongBytes_isRefusedWithTheGatewaysCode() throws Exception {
        byte[] bytes = random(1000, 3);
        Descriptor blob = Descriptor.of(MediaTypes.OCI_LAYER_TAR_GZIP, Digest.ofBytes(bytes), bytes.length);
        BlobPlan.Upload upload = (BlobPlan.Upload) destination.ensureBlob(APP, blob);
        byte[] other = bytes.clone();
        other[10] ^= 1;

        MigrateException e = assertThrows(MigrateException.class,
                () -> destination.upload(APP, upload, blob, new ByteArrayInputStream(other)));

        assertEquals(FailureKind.DESTINATION_REFUSED, e.kind());
        assertTrue(e.getMessage().contains("DIGEST_INVALID"), e.getMessage());
        assertTrue(!destination.hasBlob(APP, blob.digest()));
    }

    @Test
    void putManifest_returnsTheCidTheGatewayReports() throws Exception {
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                .getBytes(StandardCharsets.UTF_8);
        Descriptor configBlob = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.ofBytes(config), config.length);
        destination.upload(APP, (BlobPlan.Upload) destination.ensureBlob(APP, configBlob), configBlob,
                new ByteArrayInputStream(config));
        byte[] manifest = ("{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" + MediaTypes.OCI_MANIFEST + "\",\n"
                + "  \"config\": {\"mediaType\": \"" + MediaTypes.OCI_CONFIG + "\", \"digest\": \""
                + configBlob.digest() + "\", \"size\": " + config.length + "},\n  \"layers\": []\n}\n")
                .getBytes(StandardCharsets.UTF_8);
        Fetched fetched = new Fetched(manifest, MediaTypes.OCI_MANIFEST, Digest.ofBytes(manifest));

        Published published = destination.putManifest(APP, Reference.ofTag("1.0"), fetched);

        assertEquals(fetched.digest(), published.digest());
        HttpResponse<Void> head = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(gateway.uri() + "/v2/org/app/manifests/1.0")).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", MediaTypes.OCI_MANIFEST).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals("/ipfs/" + published.cid(), head.headers().firstValue("X-Ipfs-Path").orElseThrow());
        assertEquals(Optional.of(published), destination.existing(APP, Reference.ofTag("1.0")));
        assertEquals(Optional.empty(), destination.existing(APP, Reference.ofTag("2.0")));
    }

    @Test
    void putManifest_blobMissing_isRefusedNamingTheReason() {
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                + "{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\"sha256:" + "e".repeat(64)
                + "\",\"size\":2},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

        MigrateException e = assertThrows(MigrateException.class, () -> destination.putManifest(APP,
                Reference.ofTag("x"), new Fetched(manifest, MediaTypes.OCI_MANIFEST, Digest.ofBytes(manifest))));

        assertEquals(FailureKind.DESTINATION_REFUSED, e.kind());
        assertTrue(e.getMessage().contains("MANIFEST_BLOB_UNKNOWN"), e.getMessage());
    }

    @Test
    void connect_closedPort_isUnreachable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        MigrateException e = assertThrows(MigrateException.class,
                () -> GatewayDestination.connect("http://127.0.0.1:" + port, Optional.empty(), 1));
        assertEquals(FailureKind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void connect_gatewayWantsCredentials_isDeniedWithoutThem() throws Exception {
        Path htpasswd = HtpasswdFile.write(tmp.resolve("htpasswd"), "bob", "hunter2");
        try (TestGateway secured = TestGateway.start(tmp.resolve("secured"), Map.of(
                "MIRRORBALL_AUTH_HTPASSWD_PATH", htpasswd.toString(), "MIRRORBALL_AUTH_ANONYMOUS_PULL", "false"))) {
            MigrateException e = assertThrows(MigrateException.class,
                    () -> GatewayDestination.connect(secured.uri().toString(), Optional.empty(), 1));
            assertEquals(FailureKind.DENIED, e.kind());
            assertTrue(e.getMessage().contains("--dest-creds"), e.getMessage());
            MigrateException wrong = assertThrows(MigrateException.class,
                    () -> GatewayDestination.connect(secured.uri().toString(), Optional.of("bob:wrong"), 1));
            assertEquals(FailureKind.DENIED, wrong.kind());
            assertTrue(!wrong.getMessage().contains("wrong"), "never the password: " + wrong.getMessage());

            GatewayDestination.connect(secured.uri().toString(), Optional.of("bob:hunter2"), 1).close();
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** The bytes up to {@code cut}, then an I/O failure, as a source connection reset mid-blob. */
    private static InputStream failingAfter(byte[] bytes, int cut) {
        return new InputStream() {
            private int position;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (position >= cut) {
                    throw new IOException("source reset");
                }
                int n = Math.min(len, cut - position);
                System.arraycopy(bytes, position, b, off, n);
                position += n;
                return n;
            }
        };
    }
}
