package io.mirrorball.store;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.ipfs.kubo.KuboRpcNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RepositoryName;
import io.mirrorball.testing.KuboNode;
import io.mirrorball.web.GatewayServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;

/**
 * Issue 4's benchmarks, in one run:
 * (1) publish overhead: the store's manifest PUT with publishing vs the same store with publishing
 *     switched off (only possible from inside the package: every real PUT publishes), for a 1-layer
 *     and a 20-layer image, on the embedded node and on a Kubo node (median of N new images each);
 * (2) pull by CID through gateways: from a peer node (cold clone over bitswap) vs from the node that holds it.
 * usage: PublishBench WORKDIR [iterations] [pull MiB]
 */
public final class PublishBench {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PublishBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int pullMib = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        Files.createDirectories(work);
        List<String> rows = new ArrayList<>();
        try (KuboNode a = KuboNode.start(work.resolve("a")); KuboNode b = KuboNode.start(work.resolve("b"))) {
            for (String node : List.of("embedded", "kubo")) {
                IpfsNode ipfs = node.equals("embedded") ? EmbeddedNode.open(work.resolve("embedded"))
                        : KuboRpcNode.connect(a.apiUrl(), Duration.ofSeconds(5), Duration.ofSeconds(120));
                RegistryStore store = RegistryStore.open(ipfs, "/bench-" + UUID.randomUUID(), work.resolve("uploads"),
                        Duration.ofHours(1), Clock.systemUTC());
                try {
                    for (int layers : new int[]{1, 20}) {
                        double with = medianPut(store, layers, iterations, true);
                        double without = medianPut(store, layers, iterations, false);
                        rows.add(String.format("publish %-8s %2d layers: PUT with publishing %7.1f ms, without %7.1f ms,"
                                + " overhead %6.1f ms (x%.2f)", node, layers, with, without, with - without, with / without));
                    }
                } finally {
                    store.close();
                    ipfs.close();
                }
            }
            try (GatewayServer ga = gateway(work, a.apiUrl().toString());
                 GatewayServer gb = gateway(work, b.apiUrl().toString())) {
                String cid = pushImage(ga.uri(), "pull/bench", pullMib);
                b.connect(a);
                double holder = pullSeconds(ga.uri(), cid);
                double peer = pullSeconds(gb.uri(), cid);
                double peerWarm = pullSeconds(gb.uri(), cid);
                rows.add(String.format("pull by CID, %d MiB: from holder %.2f s (%.1f MiB/s), from peer (cold clone) %.2f s"
                                + " (%.1f MiB/s, x%.2f), from peer again %.2f s", pullMib, holder, pullMib / holder, peer,
                        pullMib / peer, peer / holder, peerWarm));
            }
        }
        System.out.println("== publish benchmark ==");
        rows.forEach(System.out::println);
    }

    private static GatewayServer gateway(Path work, String node) throws Exception {
        String id = UUID.randomUUID().toString();
        Map<String, String> env = new HashMap<>();
        env.put("MIRRORBALL_HTTP_ADDR", "127.0.0.1:0");
        env.put("MIRRORBALL_STORAGE_IPFS_NODE", node);
        env.put("MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH", work.resolve("embedded-" + id).toString());
        env.put("MIRRORBALL_STORAGE_UPLOADS_PATH", work.resolve("uploads-" + id).toString());
        env.put("MIRRORBALL_STORAGE_IPFS_MFS_ROOT", "/bench-" + id);
        return GatewayServer.start(ConfigLoader.load(Optional.empty(), env));
    }

    /** Median ms of the store's manifest PUT of new images, with or without publishing. */
    private static double medianPut(RegistryStore store, int layers, int iterations, boolean publish) throws Exception {
        double[] times = new double[iterations];
        Random random = new Random(layers * 31L + (publish ? 1 : 0));
        RepositoryName repo = RepositoryName.parse("bench/l" + layers);
        store.manifests().publishWith(publish ? store.publisher() : null);
        try {
            for (int i = 0; i < iterations; i++) {
                byte[] manifest = image(store, repo, layers, 4096, random);
                long t0 = System.nanoTime();
                store.manifests().put(repo, Reference.ofTag("t" + i), manifest, null);
                times[i] = (System.nanoTime() - t0) / 1e6;
            }
        } finally {
            store.manifests().publishWith(store.publisher());
        }
        Arrays.sort(times);
        return times[iterations / 2];
    }

    private static byte[] image(RegistryStore store, RepositoryName repo, int layers, int layerSize, Random random)
            throws Exception {
        StringBuilder json = new StringBuilder();
        for (int l = 0; l < layers; l++) {
            byte[] layer = new byte[layerSize];
            random.nextBytes(layer);
            Digest d = Digest.ofBytes(layer);
            store.blobs().put(new java.io.ByteArrayInputStream(layer), d);
            store.blobs().link(repo, d);
            json.append(l == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"")
                    .append(d).append("\",\"size\":").append(layerSize).append("}");
        }
        byte[] config = ("{\"os\":\"linux\",\"n\":\"" + random.nextLong() + "\"}").getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.ofBytes(config);
        store.blobs().put(new java.io.ByteArrayInputStream(config), configDigest);
        store.blobs().link(repo, configDigest);
        return ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":"
                + config.length + "},\"layers\":[" + json + "]}").getBytes(StandardCharsets.UTF_8);
    }

    private static String pushBlob(URI base, String repo, byte[] content) throws Exception {
        String digest = Digest.ofBytes(content).toString();
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/v2/" + repo + "/blobs/uploads/?digest="
                + digest)).POST(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
        check(r, 201);
        return digest;
    }

    private static String put(URI base, String repo, String tag, byte[] manifest) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/v2/" + repo + "/manifests/" + tag))
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build(), HttpResponse.BodyHandlers.ofString());
        check(r, 201);
        return r.headers().firstValue("X-Ipfs-Path").orElseThrow().substring("/ipfs/".length());
    }

    /** Pushes an image of 4 layers totalling {@code mib} MiB (streamed from a temp file) and returns its CID. */
    private static String pushImage(URI base, String repo, int mib) throws Exception {
        Random random = new Random(7);
        StringBuilder json = new StringBuilder();
        long layerSize = mib * 1024L * 1024 / 4;
        Path file = Files.createTempFile("bench-layer", ".bin");
        try {
            for (int l = 0; l < 4; l++) {
                MessageDigest md = Digest.newSha256();
                try (var out = Files.newOutputStream(file)) {
                    byte[] chunk = new byte[1 << 20];
                    for (long done = 0; done < layerSize; done += chunk.length) {
                        random.nextBytes(chunk);
                        out.write(chunk);
                        md.update(chunk);
                    }
                }
                String digest = Digest.sha256(md.digest()).toString();
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/v2/" + repo
                                + "/blobs/uploads/?digest=" + digest)).POST(HttpRequest.BodyPublishers.ofFile(file)).build(),
                        HttpResponse.BodyHandlers.ofString());
                check(r, 201);
                json.append(l == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                        + "\"digest\":\"").append(digest).append("\",\"size\":").append(layerSize).append("}");
            }
        } finally {
            Files.deleteIfExists(file);
        }
        byte[] config = "{\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        String configDigest = pushBlob(base, repo, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":"
                + config.length + "},\"layers\":[" + json + "]}").getBytes(StandardCharsets.UTF_8);
        return put(base, repo, "v1", manifest);
    }

    /** Seconds to GET the manifest and every layer of an image by CID. */
    private static double pullSeconds(URI base, String cid) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> m = HTTP.send(HttpRequest.newBuilder(base.resolve("/v2/" + cid + "/manifests/latest"))
                .build(), HttpResponse.BodyHandlers.ofString());
        check(m, 200);
        java.util.regex.Matcher digests = java.util.regex.Pattern.compile("\"digest\":\"(sha256:[0-9a-f]{64})\"")
                .matcher(m.body());
        while (digests.find()) {
            HttpResponse<InputStream> blob = HTTP.send(HttpRequest.newBuilder(base.resolve("/v2/" + cid + "/blobs/"
                    + digests.group(1))).build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = blob.body()) {
                if (blob.statusCode() != 200) {
                    throw new IOException("blob GET gave " + blob.statusCode());
                }
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void check(HttpResponse<String> r, int status) throws IOException {
        if (r.statusCode() != status) {
            throw new IOException(r.request().method() + " " + r.uri() + " gave " + r.statusCode() + ": " + r.body());
        }
    }
}
