package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mirrorball.config.ConfigLoader;
import io.mirrorball.log.Events;
import io.mirrorball.testing.KuboNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The event lines of a publish and of a clone, and the access line of a pull by CID, as Logback
 * receives them: two gateways on one Kubo node, each with its own MFS root, so that the second
 * clones what the first published.
 */
final class EventLinesTest {
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final ListAppender<ILoggingEvent> access = new ListAppender<>();

    @BeforeEach
    void listen() {
        attach(Events.LOGGER, events);
        attach("mirrorball.access", access);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        ((Logger) LoggerFactory.getLogger(Events.LOGGER)).detachAppender(events);
        ((Logger) LoggerFactory.getLogger("mirrorball.access")).detachAppender(access);
    }

    private static void attach(String logger, ListAppender<ILoggingEvent> appender) {
        appender.start();
        ((Logger) LoggerFactory.getLogger(logger)).addAppender(appender);
    }

    private RegistryClient gateway() throws Exception {
        Map<String, String> env = new HashMap<>();
        String id = UUID.randomUUID().toString();
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", KuboNode.shared().apiUrl().toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", tmp.resolve("uploads-" + id).toString());
        env.put("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/events-" + id);
        GatewayServer server = GatewayServer.start(ConfigLoader.load(Optional.empty(), env));
        open.add(server);
        return new RegistryClient(server.uri());
    }

    private List<String> messages(ListAppender<ILoggingEvent> appender, String prefix) {
        synchronized (appender.list) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith(prefix))
                    .toList();
        }
    }

    @Test
    void pushThenPullByCidElsewhere_logsPublishAndCloneEvents() throws Exception {
        RegistryClient first = gateway();
        RegistryClient second = gateway();
        TestImages.Image image = TestImages.ociImage(2);
        HttpResponse<byte[]> put = first.pushImage("events/app", "v1", image);
        String cid = put.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
        String ipdrCid = put.headers().firstValue("X-Ipdr-Path").orElseThrow().substring("/ipfs/".length());

        List<String> publishes = messages(events, "publish ");
        assertEquals(1, publishes.size(), publishes.toString());
        assertTrue(publishes.get(0).matches("publish repository=events/app digest=" + image.digest() + " cid=" + cid
                + " ipdr_cid=" + ipdrCid + " duration_ms=\\d+"), publishes.get(0));

        HttpResponse<byte[]> pulled = second.get("/v2/" + cid + "/manifests/latest");
        RegistryClient.expect(pulled, 200, "pull by CID");
        List<String> clones = messages(events, "clone ");
        assertEquals(1, clones.size(), clones.toString());
        assertTrue(clones.get(0).matches("clone cid=" + cid + " duration_ms=\\d+ result=cloned"), clones.get(0));

        String requestId = pulled.headers().firstValue("X-Request-Id").orElseThrow();
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> lines = List.of();
        while (lines.isEmpty() && System.nanoTime() < deadline) {
            lines = messages(access, "127.0.0.1 \"GET /v2/" + cid + "/manifests/latest\"").stream()
                    .filter(m -> m.contains("request_id=" + requestId)).toList();
            Thread.sleep(20);
        }
        assertEquals(1, lines.size(), messages(access, "").toString());
        assertTrue(lines.get(0).contains(" status=200 bytes_in=0 bytes_out=" + image.manifest().length + " "),
                lines.get(0));
        assertTrue(lines.get(0).contains(" source=ipfs "), lines.get(0));
    }

    @Test
    void deleteByTag_logsDeleteWithRepositoryTagAndDigest() throws Exception {
        RegistryClient client = gateway();
        TestImages.Image image = client.pushImage("events/del", "v1", 1);

        RegistryClient.expect(client.delete("/v2/events/del/manifests/v1"), 202, "delete by tag");

        List<String> deletes = messages(events, "delete ");
        assertEquals(List.of("delete repository=events/del tag=v1 digest=" + image.digest()), deletes);
    }

    @Test
    void deleteByDigest_logsDeleteOfTheRepositoryAndOfItsPublishedCopies() throws Exception {
        RegistryClient client = gateway();
        TestImages.Image image = TestImages.ociImage(1);
        HttpResponse<byte[]> put = client.pushImage("events/del", "v1", image);
        String cid = put.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());

        RegistryClient.expect(client.delete("/v2/events/del/manifests/" + image.digest()), 202, "delete by digest");

        List<String> deletes = messages(events, "delete ");
        assertEquals("delete repository=events/del digest=" + image.digest(), deletes.get(0), deletes.toString());
        assertTrue(deletes.contains("delete repository=" + cid + " digest=" + image.digest()), deletes.toString());
        assertTrue(deletes.stream().allMatch(m -> m.endsWith(" digest=" + image.digest()) && !m.contains(" tag=")),
                deletes.toString());
        assertEquals(List.of(), messages(events, "delete repository=events/del tag="), "no tag line for a digest");
    }

    @Test
    void adminGc_logsGcWithTheRemovedCountFreedBytesAndDryRun() throws Exception {
        RegistryClient client = gateway();
        TestImages.Image image = client.pushImage("events/gc", "v1", 1);
        RegistryClient.expect(client.delete("/v2/events/gc/manifests/" + image.digest()), 202, "delete");
        // online, the grace keeps what was placed this recently: the counts are those of the answer

        HttpResponse<byte[]> dryRun = client.post("/admin/gc?dry-run=true", new byte[0]);
        RegistryClient.expect(dryRun, 200, "gc dry run");
        HttpResponse<byte[]> gc = client.post("/admin/gc", new byte[0]);
        RegistryClient.expect(gc, 200, "gc");

        com.fasterxml.jackson.databind.JsonNode planned = RegistryClient.json(dryRun);
        com.fasterxml.jackson.databind.JsonNode done = RegistryClient.json(gc);
        assertEquals(List.of(
                "gc removed=" + planned.path("count").asInt() + " freed=" + planned.path("freedBytes").asLong()
                        + " dry-run=true",
                "gc removed=" + done.path("count").asInt() + " freed=" + done.path("freedBytes").asLong()
                        + " dry-run=false"), messages(events, "gc "));
    }

    @Test
    void adminFsck_logsFsckWithTheCheckedCount() throws Exception {
        RegistryClient client = gateway();
        TestImages.Image image = client.pushImage("events/fsck", "v1", 2);

        HttpResponse<byte[]> fsck = client.post("/admin/fsck", new byte[0]);
        RegistryClient.expect(fsck, 200, "fsck");

        int checked = RegistryClient.json(fsck).path("blobsChecked").asInt();
        assertTrue(checked >= image.blobs().size(), RegistryClient.describe(fsck));
        assertEquals(List.of("fsck checked=" + checked + " problems=0 repaired=0"), messages(events, "fsck "));
    }
}
