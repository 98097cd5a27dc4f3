package io.mirrorball.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real source registry for the {@code migrate} tests: Debian's docker-registry (distribution 2.8),
 * optionally behind htpasswd Basic auth or token auth, filled through skopeo from
 * {@link OciLayoutBuilder} layouts (gzip layers, so digests survive the push) with:
 * <ul>
 * <li>{@code app:1.0.0}, {@code app:1.1.0}, {@code app:2.0.0-rc.1}: one shared base layer plus an own
 * layer each; {@code app:latest} is a second tag on the manifest of {@code app:1.1.0}.</li>
 * <li>{@code org/tools:multi}: an OCI index of linux/amd64 and linux/arm64; {@code org/tools:1.0}: a
 * plain image on the same base layer as {@code app} (a blob shared across repositories).</li>
 * <li>{@code legacy:v1}: pushed with {@code --format v2s2}, so a Docker schema 2 manifest.</li>
 * <li>a referrer of {@code app:1.1.0}: an OCI artifact manifest ({@code artifactType}, empty config,
 * one small layer, {@code subject} = app:1.1.0) pushed by digest, and its referrers fallback index
 * under the tag {@code sha256-<hex of app:1.1.0>} (distribution 2.8 has no referrers API).</li>
 * <li>optionally {@code big:1}, one layer of about {@link Builder#bigLayer} bytes, for resume tests.</li>
 * </ul>
 * Every expected tag, with the digest the registry serves for it, is in {@link #references()}; every
 * blob with its size in {@link #blobSizes()}. Requests are counted from the registry's access log
 * ({@link #accessLog()}); filling it leaves entries there, so take a baseline (or compare per
 * digest against a count taken before the run) when a test counts the migration's requests only.
 *
 * <pre>
 * try (SourceRegistryFixture source = SourceRegistryFixture.builder(tmp.resolve("source"))
 *         .htpasswd("alice", "s3cret").bigLayer(64 &lt;&lt; 20).start()) {
 *     String ref = "docker://" + source.hostPort() + "/app:1.1.0";
 *     Digest expected = source.digest("app:1.1.0");
 * }
 * </pre>
 */
public final class SourceRegistryFixture implements AutoCloseable {
    public static final String REFERRER_ARTIFACT_TYPE = "application/vnd.mirrorball.test.signature.v1";
    public static final String REFERRER_LAYER_TYPE = "application/vnd.mirrorball.test.signature.v1+json";
    /** The size of the base layer's file, shared by app and org/tools:1.0. */
    public static final int BASE_LAYER_SIZE = 256 * 1024;
    private static final String ACCEPT = String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final DockerRegistry registry;
    private final Credentials credentials;
    private final Skopeo skopeo;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, Digest> references = new LinkedHashMap<>();
    private final Map<String, Digest> platforms = new LinkedHashMap<>();
    private final Map<Digest, Long> blobSizes = new TreeMap<>();
    private Digest referrer;
    private Digest bigLayer;

    /** The user the registry accepts (Basic, or Basic at the token issuer). */
    public record Credentials(String username, String password) {
        @Override
        public String toString() {
            return "Credentials[" + username + ", ***]";
        }
    }

    private SourceRegistryFixture(DockerRegistry registry, Credentials credentials, Skopeo skopeo) {
        this.registry = registry;
        this.credentials = credentials;
        this.skopeo = skopeo;
    }

    public static Builder builder(Path dir) {
        return new Builder(dir.toAbsolutePath());
    }

    /** A filled registry without auth and without the big layer. */
    public static SourceRegistryFixture start(Path dir) {
        return builder(dir).start();
    }

    /** Options, then {@link #start()}. */
    public static final class Builder {
        private final Path dir;
        private Credentials htpasswd;
        private Credentials envCredentials;
        private final Map<String, String> env = new LinkedHashMap<>();
        private long bigLayer = -1;

        private Builder(Path dir) {
            this.dir = dir;
        }

        /** HTTP Basic auth with this one user (docker-registry's htpasswd). */
        public Builder htpasswd(String username, String password) {
            this.htpasswd = new Credentials(username, password);
            return this;
        }

        /**
         * Auth configured through REGISTRY_* environment overrides (e.g. a token issuer's
         * {@code REGISTRY_AUTH_TOKEN_*}), and the user to fill the registry with: Basic credentials
         * are sent to a Basic challenge, or to the realm of a Bearer challenge for a token.
         */
        public Builder authEnv(Map<String, String> registryEnv, String username, String password) {
            this.env.putAll(registryEnv);
            this.envCredentials = new Credentials(username, password);
            return this;
        }

        /** Adds {@code big:1}, one gzip layer holding a file of {@code size} random bytes. */
        public Builder bigLayer(long size) {
            if (size <= 0) {
                throw new IllegalArgumentException("big layer size must be > 0: " + size);
            }
            this.bigLayer = size;
            return this;
        }

        /** Starts the registry and pushes every image; closes the registry when filling fails. */
        public SourceRegistryFixture start() {
            DockerRegistry.Builder builder = DockerRegistry.builder(dir.resolve("registry"));
            Credentials credentials = htpasswd != null ? htpasswd : envCredentials;
            if (htpasswd != null) {
                builder.htpasswd(htpasswd.username(), htpasswd.password());
            }
            env.forEach(builder::env);
            DockerRegistry registry = builder.start();
            try {
                Skopeo skopeo = Skopeo.in(dir.resolve("skopeo"));
                if (credentials != null) {
                    skopeo.login(registry.hostPort(), credentials.username(), credentials.password());
                }
                SourceRegistryFixture fixture = new SourceRegistryFixture(registry, credentials, skopeo);
                fixture.fill(dir.resolve("layouts"), bigLayer);
                return fixture;
            } catch (IOException e) {
                registry.close();
                throw new UncheckedIOException("fill the source registry: " + e.getMessage(), e);
            } catch (RuntimeException | Error e) {
                registry.close();
                throw e;
            } catch (InterruptedException e) {
                registry.close();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while filling the source registry", e);
            }
        }
    }

    private void fill(Path layouts, long bigLayerSize) throws IOException, InterruptedException {
        Path layout = layouts.resolve("images");
        OciLayoutBuilder.Image app100 = image(layout, 10, 40_000, "app-1.0.0");
        OciLayoutBuilder.Image app110 = image(layout, 11, 50_000, "app-1.1.0");
        OciLayoutBuilder.Image app200 = image(layout, 12, 60_000, "app-2.0.0-rc.1");
        OciLayoutBuilder.Image tools10 = image(layout, 20, 30_000, "tools-1.0");
        OciLayoutBuilder.MultiArch toolsMulti = OciLayoutBuilder.at(layouts.resolve("multi")).seed(21)
                .layer(20_000, true).layer(10_000, true).buildMultiArch("multi");
        OciLayoutBuilder.Image legacy = OciLayoutBuilder.at(layouts.resolve("legacy")).seed(30)
                .layer(70_000, true).layer(5_000, true).build("v1");

        push(app100.skopeoRef(), "app:1.0.0");
        push(app110.skopeoRef(), "app:1.1.0");
        push(app200.skopeoRef(), "app:2.0.0-rc.1");
        push(app110.skopeoRef(), "app:latest");
        skopeo.copyAll(toolsMulti.skopeoRef(), docker("org/tools:multi"));
        push(tools10.skopeoRef(), "org/tools:1.0");
        skopeo.copy(legacy.skopeoRef(), docker("legacy:v1"), "--format", "v2s2");
        if (bigLayerSize > 0) {
            OciLayoutBuilder.Image big = OciLayoutBuilder.at(layouts.resolve("big")).seed(40)
                    .layer(bigLayerSize, true).build("1");
            push(big.skopeoRef(), "big:1");
            bigLayer = big.layerDigests().get(0);
        }
        for (String ref : new String[] {"app:1.0.0", "app:1.1.0", "app:2.0.0-rc.1", "app:latest",
                "org/tools:multi", "org/tools:1.0", "legacy:v1"}) {
            references.put(ref, record(ref));
        }
        if (bigLayerSize > 0) {
            references.put("big:1", record("big:1"));
        }
        pushReferrer("app", references.get("app:1.1.0"));
    }

    /** An image of the shared base layer plus one own layer, in {@code layout} under {@code tag}. */
    private static OciLayoutBuilder.Image image(Path layout, long seed, int ownLayerSize, String tag) {
        return OciLayoutBuilder.at(layout).seed(1).layer(BASE_LAYER_SIZE, true)
                .seed(seed).layer(ownLayerSize, true).build(tag);
    }

    private void push(String skopeoRef, String ref) {
        skopeo.copy(skopeoRef, docker(ref));
    }

    private String docker(String ref) {
        return "docker://" + registry.hostPort() + "/" + ref;
    }

    /** Fetches the manifest of {@code ref} as served, records its blobs (and children), returns its digest. */
    private Digest record(String ref) throws IOException, InterruptedException {
        int colon = ref.lastIndexOf(':');
        String repo = ref.substring(0, colon);
        byte[] body = getManifest(repo, ref.substring(colon + 1));
        recordBlobs(repo, body);
        return Digest.ofBytes(body);
    }

    private void recordBlobs(String repo, byte[] manifest) throws IOException, InterruptedException {
        JsonNode node = JSON.readTree(manifest);
        if (node.has("manifests")) {
            for (JsonNode child : node.get("manifests")) {
                Digest digest = Digest.parse(child.path("digest").asText());
                JsonNode platform = child.path("platform");
                if (!platform.isMissingNode()) {
                    platforms.put(platform.path("os").asText() + "/" + platform.path("architecture").asText(), digest);
                }
                recordBlobs(repo, getManifest(repo, digest.toString()));
            }
            return;
        }
        blobSizes.put(Digest.parse(node.path("config").path("digest").asText()), node.path("config").path("size").asLong());
        for (JsonNode layer : node.path("layers")) {
            blobSizes.put(Digest.parse(layer.path("digest").asText()), layer.path("size").asLong());
        }
    }

    private void pushReferrer(String repo, Digest subject) throws IOException, InterruptedException {
        byte[] subjectBytes = getManifest(repo, subject.toString());
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        byte[] signature = JSON.writeValueAsBytes(Map.of("signed", subject.toString(), "by", "SourceRegistryFixture"));
        Digest configDigest = uploadBlob(repo, config);
        Digest signatureDigest = uploadBlob(repo, signature);

        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.put("artifactType", REFERRER_ARTIFACT_TYPE);
        manifest.set("config", descriptor(MediaTypes.OCI_EMPTY, configDigest, config.length));
        manifest.putArray("layers").add(descriptor(REFERRER_LAYER_TYPE, signatureDigest, signature.length));
        manifest.set("subject", descriptor(JSON.readTree(subjectBytes).path("mediaType").asText(MediaTypes.OCI_MANIFEST),
                subject, subjectBytes.length));
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        referrer = Digest.ofBytes(manifestBytes);
        putManifest(repo, referrer.toString(), MediaTypes.OCI_MANIFEST, manifestBytes);
        blobSizes.put(configDigest, (long) config.length);
        blobSizes.put(signatureDigest, (long) signature.length);

        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ObjectNode entry = descriptor(MediaTypes.OCI_MANIFEST, referrer, manifestBytes.length);
        entry.put("artifactType", REFERRER_ARTIFACT_TYPE);
        index.putArray("manifests").add(entry);
        byte[] indexBytes = JSON.writeValueAsBytes(index);
        String tag = fallbackTag(subject);
        putManifest(repo, tag, MediaTypes.OCI_INDEX, indexBytes);
        references.put(repo + ":" + tag, Digest.ofBytes(indexBytes));
    }

    /** The referrers fallback tag of {@code subject}: {@code sha256-<hex>}. */
    public static String fallbackTag(Digest subject) {
        return subject.algorithm() + "-" + subject.hex();
    }

    private static ObjectNode descriptor(String mediaType, Digest digest, long size) {
        ObjectNode node = JSON.createObjectNode();
        node.put("mediaType", mediaType);
        node.put("digest", digest.toString());
        node.put("size", size);
        return node;
    }

    private Digest uploadBlob(String repo, byte[] content) throws IOException, InterruptedException {
        Digest digest = Digest.ofBytes(content);
        HttpResponse<byte[]> started = send(repo, "push", HttpRequest.newBuilder(api("/v2/" + repo + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        expect(started, 202, "start upload");
        String location = started.headers().firstValue("Location")
                .orElseThrow(() -> new IOException("upload without Location"));
        URI target = registry.uri().resolve(location);
        String sep = target.getRawQuery() == null ? "?" : "&";
        URI put = URI.create(target + sep + "digest=" + URLEncoder.encode(digest.toString(), StandardCharsets.UTF_8));
        expect(send(repo, "push", HttpRequest.newBuilder(put).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(content))), 201, "finish upload");
        return digest;
    }

    private void putManifest(String repo, String reference, String mediaType, byte[] body)
            throws IOException, InterruptedException {
        expect(send(repo, "push", HttpRequest.newBuilder(api("/v2/" + repo + "/manifests/" + reference))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(body))),
                201, "put manifest " + repo + ":" + reference);
    }

    private byte[] getManifest(String repo, String reference) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = send(repo, "pull", HttpRequest.newBuilder(api("/v2/" + repo + "/manifests/" + reference))
                .header("Accept", ACCEPT).GET());
        expect(response, 200, "get manifest " + repo + ":" + reference);
        return response.body();
    }

    private URI api(String path) {
        return registry.uri().resolve(path);
    }

    /** Sends, answering one 401 challenge (Basic, or Bearer through the realm) with the credentials. */
    private HttpResponse<byte[]> send(String repo, String actions, HttpRequest.Builder request)
            throws IOException, InterruptedException {
        request.timeout(Duration.ofSeconds(60));
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 401 || credentials == null) {
            return response;
        }
        String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
        String basic = "Basic " + Base64.getEncoder().encodeToString(
                (credentials.username() + ":" + credentials.password()).getBytes(StandardCharsets.UTF_8));
        String authorization;
        if (challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            Map<String, String> params = new LinkedHashMap<>();
            Matcher matcher = CHALLENGE_PARAM.matcher(challenge);
            while (matcher.find()) {
                params.put(matcher.group(1), matcher.group(2));
            }
            String scope = "repository:" + repo + ":" + ("push".equals(actions) ? "pull,push" : "pull");
            URI realm = URI.create(params.get("realm") + "?service="
                    + URLEncoder.encode(params.getOrDefault("service", ""), StandardCharsets.UTF_8)
                    + "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
            HttpResponse<byte[]> token = http.send(HttpRequest.newBuilder(realm).timeout(Duration.ofSeconds(30))
                    .header("Authorization", basic).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            expect(token, 200, "token for " + scope);
            JsonNode answer = JSON.readTree(token.body());
            authorization = "Bearer " + answer.path(answer.has("token") ? "token" : "access_token").asText();
        } else {
            authorization = basic;
        }
        return http.send(request.header("Authorization", authorization).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void expect(HttpResponse<byte[]> response, int status, String what) throws IOException {
        if (response.statusCode() != status) {
            throw new IOException(what + ": HTTP " + response.statusCode() + " "
                    + new String(response.body(), StandardCharsets.UTF_8));
        }
    }

    /** The registry process (its log, storage, pid). */
    public DockerRegistry registry() {
        return registry;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI uri() {
        return registry.uri();
    }

    /** {@code 127.0.0.1:<port>}, as used in image references. */
    public String hostPort() {
        return registry.hostPort();
    }

    /**
     * Every tag in the registry ({@code repo:tag}, including the referrers fallback tag) with the
     * digest of the manifest or index the registry serves for it, in push order.
     */
    public Map<String, Digest> references() {
        return Collections.unmodifiableMap(references);
    }

    /** The digest served for {@code repo:tag}; fails for a reference the fixture did not push. */
    public Digest digest(String reference) {
        Digest digest = references.get(reference);
        if (digest == null) {
            throw new IllegalArgumentException("no such reference in the fixture: " + reference);
        }
        return digest;
    }

    /** The platform manifests of {@code org/tools:multi}: {@code linux/amd64} and {@code linux/arm64}. */
    public Map<String, Digest> platformDigests() {
        return Collections.unmodifiableMap(platforms);
    }

    /** The digest of the referrer artifact manifest of {@code app:1.1.0} (pushed by digest, untagged). */
    public Digest referrerDigest() {
        return referrer;
    }

    /** The referrers fallback tag of {@code app:1.1.0}, {@code sha256-<hex>}. */
    public String referrerFallbackTag() {
        return fallbackTag(digest("app:1.1.0"));
    }

    /** Every config and layer blob of every pushed manifest (and of the referrer) with its size. */
    public Map<Digest, Long> blobSizes() {
        return Collections.unmodifiableMap(blobSizes);
    }

    /** The layer of {@code big:1}, when {@link Builder#bigLayer} was set. */
    public Optional<Digest> bigLayerDigest() {
        return Optional.ofNullable(bigLayer);
    }

    /** The credentials the registry accepts, when auth is on. */
    public Optional<Credentials> credentials() {
        return Optional.ofNullable(credentials);
    }

    /** The registry's access log (requests, status, body bytes). */
    public AccessLog accessLog() {
        return new AccessLog(registry.log());
    }

    /** A skopeo logged in to the registry (when auth is on). */
    public Skopeo skopeo() {
        return skopeo;
    }

    @Override
    public void close() {
        registry.close();
    }
}
