package io.mirrorball.ipfs.kubo;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.ImportParams;
import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.ipfs.IpfsNode;
import io.mirrorball.ipfs.IpfsNotFoundException;
import io.mirrorball.ipfs.RpcObserver;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.function.Supplier;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.message.BasicHeader;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * {@link IpfsNode} over the Kubo RPC API ({@code POST /api/v0/<cmd>?arg=...}), with Apache HttpClient 5
 * and a pooled connection manager. Works against Kubo and against the js-ipfs test node.
 *
 * <p>Uploads ({@code add}, {@code dag/import}) stream as chunked multipart bodies and are never
 * buffered. Downloads ({@code cat}, {@code files/read}, {@code dag/export}) stream the response; the
 * returned stream closes (or, before its end, aborts) the HTTP exchange. Every CID this class returns
 * is a CIDv1 (Kubo prints MFS directories as CIDv0; the multihash is the same).
 *
 * <p>Errors: a missing MFS path, link or block is an {@link IpfsNotFoundException}; a refused
 * connection is kind UNAVAILABLE (immediately); a connect, read or response timeout is kind TIMEOUT;
 * anything else Kubo reports is kind FAILED, with a message "ipfs &lt;cmd&gt; &lt;args&gt;: &lt;Kubo's message&gt;".
 */
public final class KuboRpcNode implements IpfsNode {
    /** Connections per route: a busy gateway streams many blobs at once from one node. */
    static final int MAX_CONNECTIONS_PER_ROUTE = 64;
    /** Adds running alongside uploads at once (beyond that, an upload's file is added when it completes). */
    static final int MAX_STREAMING_ADDS = 16;
    /** Tries of an idempotent MFS change that lost a race inside Kubo (see {@link #retryingMfsRace}). */
    static final int MFS_RACE_ATTEMPTS = 5;
    private static final int MAX_CONNECTIONS = 128;
    private static final int MAX_JSON_BYTES = 16 << 20;
    private static final int MAX_ERROR_BYTES = 64 << 10;
    private static final int MAX_BLOCK_BYTES = 4 << 20;
    /** How long block/stat may look for a block that is not local (js-ipfs ignores offline=true). */
    private static final Duration LOCAL_LOOKUP = Duration.ofSeconds(2);

    private final URI apiBase;
    private final HttpHost host;
    private final String rpcPrefix;
    private final Duration readTimeout;
    private final CloseableHttpClient client;
    private final ObjectMapper json = new ObjectMapper();
    /**
     * Orders the MFS changes of this client so that none is lost. Kubo's files/mkdir, files/cp,
     * files/mv, files/rm and files/flush flush a directory (files/mv flushes "/"), and boxo's
     * {@code Directory.Flush} empties that directory's cache of child objects. A files/write still
     * working below it keeps updating the forgotten child, while later calls load a fresh one
     * from the DAG: whichever bubbles up last replaces the other's change, and a write answered 200
     * is gone (a migration linked blobs into a new repository and the manifest PUT then found one
     * missing). So those changes hold this lock exclusively; files/write holds it shared and writes
     * still run side by side (a write flushes only its file's own directory). Costs one block/stat
     * per files/cp from /ipfs/ (fetching the root outside the lock); guards only the calls of this
     * client, not other clients of the same node.
     */
    private final ReadWriteLock mfsChanges = new ReentrantReadWriteLock();
    /** Runs the adds that take an upload's bytes as they arrive; each holds one connection. */
    private final ThreadPoolExecutor streamingAdds;

    /** Hears of every RPC (for metrics). */
    private volatile RpcObserver observer = RpcObserver.NONE;

    private KuboRpcNode(URI apiBase, String authorization, Duration connectTimeout, Duration readTimeout) {
        this.apiBase = apiBase;
        this.host = new HttpHost(apiBase.getScheme(), apiBase.getHost(), apiBase.getPort());
        this.rpcPrefix = apiBase + "/api/v0/";
        this.readTimeout = readTimeout;
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(MAX_CONNECTIONS)
                .setMaxConnPerRoute(MAX_CONNECTIONS_PER_ROUTE)
                // blob bodies stream through here: 64 KiB socket buffers instead of the default 8 KiB
                .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                        .http1Config(Http1Config.custom().setBufferSize(64 * 1024).setChunkSizeHint(64 * 1024).build())
                        .build())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(connectTimeout))
                        .setSocketTimeout(Timeout.of(readTimeout))
                        // the node closes idle keep-alive connections (js-ipfs after 5 s): check before reuse
                        .setValidateAfterInactivity(TimeValue.ofMilliseconds(500))
                        .build())
                .build();
        List<Header> defaultHeaders = new ArrayList<>();
        if (authorization != null) {
            // Kubo's API.Authorizations: Basic (from the URL or basic:user:password) or Bearer credentials
            defaultHeaders.add(new BasicHeader(HttpHeaders.AUTHORIZATION, authorization));
        }
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultHeaders(defaultHeaders)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(readTimeout))
                        .setResponseTimeout(Timeout.of(readTimeout))
                        .setRedirectsEnabled(false)
                        .build())
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableContentCompression()
                .disableAuthCaching()
                .setUserAgent("mirrorball")
                .build();
        AtomicInteger addThreads = new AtomicInteger();
        this.streamingAdds = new ThreadPoolExecutor(0, MAX_STREAMING_ADDS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "mirrorball-kubo-add-" + addThreads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Connects to a node's RPC API, e.g. {@code http://127.0.0.1:5001} (a trailing slash or
     * {@code /api/v0} is fine; {@code http://user:password@host:5001} sends Basic credentials, for
     * Kubo's {@code API.Authorizations}). Nothing is sent until the first call.
     *
     * @param connectTimeout how long a TCP connect may take
     * @param readTimeout    how long the node may stay silent: waiting for an answer, or between two
     *                       reads of a streamed body
     */
    public static KuboRpcNode connect(URI apiBase, Duration connectTimeout, Duration readTimeout) {
        return connect(apiBase, null, connectTimeout, readTimeout);
    }

    /**
     * As {@link #connect(URI, Duration, Duration)}, sending the secret of Kubo's
     * {@code API.Authorizations} with every call: {@code basic:<user>:<password>} or
     * {@code bearer:<token>} (Kubo's AuthSecret form); null or "" for none (or the URL's user info).
     */
    public static KuboRpcNode connect(URI apiBase, String authSecret, Duration connectTimeout, Duration readTimeout) {
        if (apiBase == null || apiBase.getHost() == null
                || !("http".equals(apiBase.getScheme()) || "https".equals(apiBase.getScheme()))) {
            // the value is not repeated: it may carry a secret (the config error names the key)
            throw new IllegalArgumentException("IPFS node API must be an http(s) URL such as http://127.0.0.1:5001");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("IPFS node timeouts must be positive");
        }
        String path = apiBase.getPath() == null ? "" : apiBase.getPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith("/api/v0")) {
            path = path.substring(0, path.length() - "/api/v0".length());
        }
        int port = apiBase.getPort() != -1 ? apiBase.getPort() : "https".equals(apiBase.getScheme()) ? 443 : 80;
        URI base = URI.create(apiBase.getScheme() + "://" + hostLiteral(apiBase.getHost()) + ":" + port + path);
        String authorization = authSecret != null && !authSecret.isEmpty() ? authorizationHeader(authSecret)
                : apiBase.getUserInfo() != null ? basic(apiBase.getUserInfo()) : null;
        return new KuboRpcNode(base, authorization, connectTimeout, readTimeout);
    }

    /** The Authorization header of an AuthSecret ({@code basic:user:password} or {@code bearer:token}). */
    static String authorizationHeader(String authSecret) {
        int colon = authSecret.indexOf(':');
        String kind = colon < 0 ? "" : authSecret.substring(0, colon).toLowerCase(Locale.ROOT);
        return switch (kind) {
            case "basic" -> basic(authSecret.substring(colon + 1));
            case "bearer" -> "Bearer " + authSecret.substring(colon + 1);
            default -> throw new IllegalArgumentException(
                    "IPFS node secret must be basic:<user>:<password> or bearer:<token>");
        };
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Connects to a node given as a URL ({@code http://127.0.0.1:5001}) or as Kubo's API multiaddr
     * ({@code /ip4/127.0.0.1/tcp/5001}, {@code /ip6/::1/tcp/5001}, {@code /dns4/ipfs/tcp/5001}).
     */
    public static KuboRpcNode connect(String nodeSpec, Duration connectTimeout, Duration readTimeout) {
        return connect(nodeSpec, null, connectTimeout, readTimeout);
    }

    /** As {@link #connect(String, Duration, Duration)}, with an AuthSecret as in {@link #connect(URI, String, Duration, Duration)}. */
    public static KuboRpcNode connect(String nodeSpec, String authSecret, Duration connectTimeout, Duration readTimeout) {
        String spec = nodeSpec == null ? "" : nodeSpec.strip();
        if (spec.startsWith("/")) {
            String[] parts = spec.substring(1).split("/");
            if (parts.length < 4 || !parts[2].equals("tcp")
                    || !List.of("ip4", "ip6", "dns", "dns4", "dns6").contains(parts[0])) {
                throw new IllegalArgumentException("unsupported IPFS API multiaddr " + nodeSpec
                        + " (expected /ip4/<addr>/tcp/<port>)");
            }
            String scheme = parts.length >= 5 && parts[4].equals("https") ? "https" : "http";
            int port;
            try {
                port = Integer.parseInt(parts[3]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in IPFS API multiaddr " + nodeSpec, e);
            }
            return connect(URI.create(scheme + "://" + hostLiteral(parts[1]) + ":" + port), authSecret, connectTimeout,
                    readTimeout);
        }
        try {
            return connect(URI.create(spec), authSecret, connectTimeout, readTimeout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("IPFS node must be a URL or a multiaddr", e);
        }
    }

    private static String hostLiteral(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The node's base URL, without {@code /api/v0} and without credentials. */
    public URI apiBase() {
        return apiBase;
    }

    @Override
    public void observeRpc(RpcObserver observer) {
        this.observer = observer == null ? RpcObserver.NONE : observer;
    }

    @Override
    public String toString() {
        return "KuboRpcNode[" + apiBase + "]";
    }

    // ---- content ---------------------------------------------------------------------------------

    @Override
    public Added add(InputStream content) throws IOException {
        Call call = new Call("add").query(ImportParams.FIXED.kuboQuery())
                .opt("pin", "false").opt("quieter", "true").opt("progress", "false");
        KuboMultipart body = KuboMultipart.of(content);
        String text = text(call, body);
        Cid cid = null;
        for (JsonNode line : lines(call, text)) {
            if (line.hasNonNull("Hash")) {
                cid = cid(call, line.path("Hash").asText());
            }
        }
        if (cid == null) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": no Hash in the answer: " + abbreviate(text));
        }
        if (cid.version() != 1) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": node ignored cid-version=1 and answered " + cid);
        }
        return new Added(cid, body.sent());
    }

    /**
     * An {@link #add} that takes the content while an upload arrives: the node imports the bytes as
     * they come, so completing the upload waits only for its answer. Empty when
     * {@value #MAX_STREAMING_ADDS} already run.
     */
    @Override
    public Optional<StreamingAdd> startAdd() {
        try {
            return Optional.of(KuboStreamingAdd.start(streamingAdds, this::add, readTimeout));
        } catch (RejectedExecutionException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream cat(String cidPath, long offset, long length) throws IOException {
        checkRange(offset, length);
        Call call = new Call("cat").arg(cidPath);
        if (offset > 0) {
            call.opt("offset", Long.toString(offset));
        }
        if (length > 0) {
            call.opt("length", Long.toString(length));
        } else if (length == 0) {
            call.opt("length", "1"); // js-ipfs refuses length=0: read one byte, still failing when missing
        }
        return stream(call, length == 0);
    }

    // ---- blocks ----------------------------------------------------------------------------------

    @Override
    public Cid blockPut(byte[] block, long codec) throws IOException {
        String codecName;
        if (codec == Cid.RAW) {
            codecName = "raw";
        } else if (codec == Cid.DAG_PB) {
            codecName = "dag-pb";
        } else {
            throw new IllegalArgumentException("blockPut supports raw (0x55) and dag-pb (0x70), not 0x"
                    + Long.toHexString(codec));
        }
        Cid expected = Cid.sha256(codec, sha256(block));
        // Kubo reads cid-codec (default raw). js-ipfs reads the legacy format (default dag-pb); Kubo
        // refuses format together with a cid-codec other than raw, so format is sent for raw only.
        Call call = new Call("block/put").opt("cid-codec", codecName).opt("mhtype", "sha2-256").opt("pin", "false");
        if (codec == Cid.RAW) {
            call.opt("format", "raw");
        }
        JsonNode answer = lastLine(call, text(call, KuboMultipart.of(new ByteArrayInputStream(block))));
        Cid stored = cid(call, answer.path("Key").asText());
        if (!stored.toV1().equals(expected)) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, call + ": node stored the " + block.length
                    + "-byte block as " + stored + ", expected " + expected);
        }
        return expected;
    }

    @Override
    public byte[] blockGet(Cid cid) throws IOException {
        Call call = new Call("block/get").arg(cid.toString()).opt("timeout", goDuration(readTimeout));
        byte[] block;
        try (Exchange exchange = exchange(call, null)) {
            exchange.requireOk();
            block = exchange.readCapped(MAX_BLOCK_BYTES);
        }
        if (cid.isSha256() && !Arrays.equals(sha256(block), cid.sha256Digest())) {
            throw new IpfsException(IpfsException.Kind.CORRUPT, call + ": block does not match its CID");
        }
        return block;
    }

    @Override
    public Optional<Long> blockStat(Cid cid) throws IOException {
        Duration lookup = readTimeout.compareTo(LOCAL_LOOKUP) < 0 ? readTimeout : LOCAL_LOOKUP;
        Call call = new Call("block/stat").arg(cid.toString()).opt("offline", "true").opt("timeout", goDuration(lookup));
        try (Exchange exchange = exchange(call, null)) {
            if (exchange.status() != 200) {
                IpfsException error = exchange.error();
                if (error instanceof IpfsNotFoundException || error.kind() == IpfsException.Kind.TIMEOUT
                        || exchange.errorMessage().toLowerCase(Locale.ROOT).contains("offline")) {
                    return Optional.empty(); // not local: the node gave up looking (offline, or our timeout)
                }
                throw error;
            }
            JsonNode answer = lastLine(call, exchange.readText(MAX_JSON_BYTES));
            return Optional.of(answer.path("Size").asLong());
        }
    }

    // ---- MFS -------------------------------------------------------------------------------------

    @Override
    public void filesMkdir(String path) throws IOException {
        retryingMfsRace(() -> holding(mfsChanges.writeLock(),
                () -> text(new Call("files/mkdir").arg(mfs(path)).opt("parents", "true"), null)));
    }

    @Override
    public void filesWrite(String path, byte[] content) throws IOException {
        retryingMfsRace(() -> holding(mfsChanges.readLock(), () -> text(new Call("files/write").arg(mfs(path))
                .opt("create", "true").opt("truncate", "true").opt("parents", "true"),
                KuboMultipart.of(new ByteArrayInputStream(content)))));
    }

    /** A call to the node that answers T. */
    private interface NodeCall<T> {
        T run() throws IOException;
    }

    /** Runs an MFS call holding one side of {@link #mfsChanges}. */
    private static <T> T holding(Lock lock, NodeCall<T> call) throws IOException {
        lock.lock();
        try {
            return call.run();
        } finally {
            lock.unlock();
        }
    }

    /** An idempotent MFS change (mkdir -p, write with create and truncate). */
    private interface MfsChange {
        void run() throws IOException;
    }

    /**
     * Runs an idempotent MFS change again when it lost a race inside Kubo. Kubo's MFS does not make
     * {@code parents=true} atomic: two calls that create the same directory or file at once can fail
     * with "directory already has entry by that name", "file does not exist", or "file already
     * exists" (Go's {@code os.ErrExist}: boxo's {@code mfs.Mkdir} looks a parent up, finds nothing,
     * and another call creates it before this one does). All were seen with concurrent tag writes
     * into one repository. None can be the outcome of the change itself, so the call is repeated,
     * a few times with a short pause.
     */
    private static void retryingMfsRace(MfsChange change) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                change.run();
                return;
            } catch (IpfsException e) {
                if (attempt == MFS_RACE_ATTEMPTS || !lostMfsRace(e)) {
                    throw e;
                }
            }
            try {
                Thread.sleep(5L << attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while repeating an MFS change");
            }
        }
    }

    static boolean lostMfsRace(IpfsException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        return e instanceof IpfsNotFoundException
                || message.contains("directory already has entry by that name")
                || message.endsWith(": file already exists");
    }

    @Override
    public InputStream filesRead(String path, long offset, long length) throws IOException {
        checkRange(offset, length);
        Call call = new Call("files/read").arg(mfs(path));
        if (offset > 0) {
            call.opt("offset", Long.toString(offset));
        }
        if (length >= 0) {
            // Kubo reads count, js-ipfs reads length (and may refuse 0: read one byte and drop it)
            String count = Long.toString(Math.max(1, length));
            call.opt("count", count).opt("length", count);
        }
        return stream(call, length == 0);
    }

    @Override
    public Optional<FileStat> filesStat(String path) throws IOException {
        Call call = new Call("files/stat").arg(mfs(path));
        JsonNode stat;
        try {
            stat = lastLine(call, text(call, null));
        } catch (IpfsNotFoundException e) {
            return Optional.empty();
        }
        boolean directory = isDirectory(stat.path("Type"));
        return Optional.of(new FileStat(cid(call, stat.path("Hash").asText()).toV1(),
                directory ? 0 : stat.path("Size").asLong(), stat.path("CumulativeSize").asLong(), directory));
    }

    @Override
    public List<FileEntry> filesLs(String path) throws IOException {
        Call call = new Call("files/ls").arg(mfs(path)).opt("long", "true");
        JsonNode answer = lastLine(call, text(call, null));
        List<FileEntry> entries = new ArrayList<>();
        for (JsonNode entry : answer.path("Entries")) {
            boolean directory = isDirectory(entry.path("Type"));
            entries.add(new FileEntry(entry.path("Name").asText(), cid(call, entry.path("Hash").asText()).toV1(),
                    directory ? 0 : entry.path("Size").asLong(), directory));
        }
        entries.sort(Comparator.comparing(FileEntry::name));
        return List.copyOf(entries);
    }

    @Override
    public void filesCp(String from, String to) throws IOException {
        String source = from.startsWith("/ipfs/") ? from : mfs(from);
        if (from.startsWith("/ipfs/")) {
            // fetch the root first, so that the exclusive cp below never waits for the network
            String root = from.substring("/ipfs/".length());
            text(new Call("block/stat").arg(root.contains("/") ? from : root).opt("timeout", goDuration(readTimeout)),
                    null);
        }
        Call call = new Call("files/cp").arg(source).arg(mfs(to)).opt("parents", "true");
        holding(mfsChanges.writeLock(), () -> text(call, null));
    }

    @Override
    public void filesMv(String from, String to) throws IOException {
        Call call = new Call("files/mv").arg(mfs(from)).arg(mfs(to));
        holding(mfsChanges.writeLock(), () -> text(call, null));
    }

    @Override
    public void filesRm(String path) throws IOException {
        try {
            Call call = new Call("files/rm").arg(mfs(path)).opt("recursive", "true").opt("force", "true");
            holding(mfsChanges.writeLock(), () -> text(call, null));
        } catch (IpfsNotFoundException alreadyGone) {
            // removing a missing path is not an error
        }
    }

    @Override
    public Cid filesFlush(String path) throws IOException {
        Call call = new Call("files/flush").arg(mfs(path));
        String text = holding(mfsChanges.writeLock(), () -> text(call, null));
        if (!text.isBlank()) {
            JsonNode answer = lastLine(call, text);
            if (answer.hasNonNull("Cid")) {
                return cid(call, answer.path("Cid").asText()).toV1();
            }
        }
        // Kubo before 0.20 answered files/flush with an empty body
        return filesStat(path).orElseThrow(() -> new IpfsNotFoundException(call + ": file does not exist")).cid();
    }

    // ---- pins, CAR, node -------------------------------------------------------------------------

    @Override
    public void pinAdd(Cid cid) throws IOException {
        text(new Call("pin/add").arg(cid.toString()).opt("recursive", "true").opt("progress", "false"), null);
    }

    /**
     * Kubo's block gc ({@code repo/gc}): deletes every block that nothing pins and MFS does not reach.
     * Blocks another program added but has not linked yet go too, so only the offline gc runs it.
     *
     * @return the blocks removed
     */
    public long repoGc() throws IOException {
        long removed = 0;
        try (InputStream in = stream(new Call("repo/gc").opt("stream-errors", "true"), false);
             java.io.BufferedReader lines = new java.io.BufferedReader(
                     new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode answer = json.readTree(line);
                String error = answer.path("Error").asText("");
                if (!error.isEmpty()) {
                    throw new IpfsException(IpfsException.Kind.FAILED, "ipfs repo gc: " + error);
                }
                removed++;
            }
        }
        return removed;
    }

    /** The bytes of the node's block store ({@code repo/stat --size-only}). */
    public long repoSize() throws IOException {
        return json.readTree(text(new Call("repo/stat").opt("size-only", "true"), null)).path("RepoSize").asLong();
    }

    @Override
    public void pinRm(Cid cid) throws IOException {
        Call call = new Call("pin/rm").arg(cid.toString()).opt("recursive", "true");
        try (Exchange exchange = exchange(call, null)) {
            if (exchange.status() != 200 && !exchange.errorMessage().toLowerCase(Locale.ROOT).contains("not pinned")) {
                throw exchange.error();
            }
            if (exchange.status() == 200) {
                exchange.readText(MAX_JSON_BYTES);
            }
        }
    }

    @Override
    public InputStream dagExport(Cid root) throws IOException {
        return stream(new Call("dag/export").arg(root.toString()).opt("progress", "false"), false);
    }

    @Override
    public List<Cid> dagImport(InputStream car) throws IOException {
        Call call = new Call("dag/import").opt("pin-roots", "false").opt("stats", "false");
        KuboCar header;
        try {
            header = KuboCar.readHeader(car);
        } catch (IllegalArgumentException | EOFException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": not a CAR v1 stream: " + e.getMessage(), e);
        }
        String text = text(call, KuboMultipart.of(header.raw(), car));
        for (JsonNode line : lines(call, text)) {
            String pinError = line.path("Root").path("PinErrorMsg").asText("");
            if (!pinError.isEmpty()) {
                throw KuboErrors.fromMessage(call.toString(), pinError);
            }
        }
        return header.roots().stream().map(Cid::toV1).toList();
    }

    @Override
    public NodeId id() throws IOException {
        Call call = new Call("id");
        JsonNode answer = lastLine(call, text(call, null));
        List<String> addresses = new ArrayList<>();
        answer.path("Addresses").forEach(a -> addresses.add(a.asText()));
        return new NodeId(answer.path("ID").asText(), addresses);
    }

    @Override
    public String version() throws IOException {
        Call call = new Call("version");
        JsonNode answer = lastLine(call, text(call, null));
        String version = answer.path("Version").asText("");
        if (version.isEmpty()) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": no Version in the answer");
        }
        return version;
    }

    @Override
    public void close() throws IOException {
        streamingAdds.shutdownNow();
        client.close();
    }

    // ---- plumbing --------------------------------------------------------------------------------

    /** One RPC: command, arguments and options. Its toString names it in error messages. */
    private final class Call {
        private final String cmd;
        private final List<String> args = new ArrayList<>();
        private final StringBuilder query = new StringBuilder();

        Call(String cmd) {
            this.cmd = cmd;
        }

        Call arg(String value) {
            args.add(value);
            return opt("arg", value);
        }

        Call opt(String name, String value) {
            query.append(query.length() == 0 ? "" : "&").append(name).append('=').append(encode(value));
            return this;
        }

        /** Appends a ready-made query string. */
        Call query(String raw) {
            query.append(query.length() == 0 ? "" : "&").append(raw);
            return this;
        }

        URI uri() {
            return URI.create(rpcPrefix + cmd + (query.length() == 0 ? "" : "?" + query));
        }

        @Override
        public String toString() {
            return "ipfs " + cmd + (args.isEmpty() ? "" : " " + String.join(" ", args));
        }

        private String encode(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
        }
    }

    /** An open HTTP exchange; closing it aborts the connection unless the body was read to its end. */
    private final class Exchange implements AutoCloseable {
        private final Call call;
        private final HttpPost request;
        private final ClassicHttpResponse response;
        private String errorBody;
        private boolean consumed;

        Exchange(Call call, HttpPost request, ClassicHttpResponse response) {
            this.call = call;
            this.request = request;
            this.response = response;
        }

        int status() {
            return response.getCode();
        }

        void requireOk() throws IpfsException {
            if (status() != 200) {
                throw error();
            }
        }

        /** The error body (read once, capped). */
        String errorBody() {
            if (errorBody == null) {
                try {
                    errorBody = new String(readCapped(MAX_ERROR_BYTES), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    errorBody = "(error body unreadable: " + e.getMessage() + ")";
                }
            }
            return errorBody;
        }

        String errorMessage() {
            String message = KuboErrors.kuboMessage(errorBody(), json);
            return message == null ? errorBody() : message;
        }

        IpfsException error() {
            IpfsException error = KuboErrors.response(call.toString(), status(), errorBody(), json);
            if (!(error instanceof IpfsNotFoundException)) {
                observer.failed(call.cmd);
            }
            return error;
        }

        String readText(int cap) throws IOException {
            return new String(readCapped(cap), StandardCharsets.UTF_8);
        }

        /** Reads the whole body (at most cap bytes), then checks Kubo's X-Stream-Error trailer. */
        byte[] readCapped(int cap) throws IOException {
            HttpEntity entity = response.getEntity();
            if (entity == null) {
                consumed = true;
                return new byte[0];
            }
            byte[] bytes;
            try (InputStream in = entity.getContent()) {
                bytes = in.readNBytes(cap + 1);
                if (bytes.length > cap) {
                    throw new IpfsException(IpfsException.Kind.FAILED, call + ": answer larger than " + cap + " bytes");
                }
                consumed = true;
            } catch (IpfsException e) {
                throw e;
            } catch (IOException e) {
                throw KuboErrors.transport(call.toString(), apiBase.toString(), e);
            }
            checkTrailer(call, entity);
            return bytes;
        }

        @Override
        public void close() throws IOException {
            if (!consumed) {
                request.cancel(); // do not drain a body nobody reads: drop the connection
            }
            try {
                response.close();
            } catch (IOException e) {
                if (consumed) {
                    throw e;
                }
                // closing an exchange we just aborted may fail; the connection is gone either way
            }
        }
    }

    private Exchange exchange(Call call, HttpEntity body) throws IOException {
        HttpPost request = new HttpPost(call.uri());
        if (body != null) {
            request.setEntity(body);
        }
        long start = System.nanoTime();
        try {
            Exchange exchange = new Exchange(call, request, client.executeOpen(host, request, null));
            observer.answered(call.cmd, System.nanoTime() - start);
            return exchange;
        } catch (IOException e) {
            if (body instanceof KuboMultipart multipart && multipart.sourceFailure() != null) {
                throw multipart.sourceFailure(); // the caller's stream failed, not the node
            }
            observer.failed(call.cmd);
            throw KuboErrors.transport(call.toString(), apiBase.toString(), e);
        }
    }

    /** Runs a call and returns its whole (capped) answer; a non-200 becomes an exception. */
    private String text(Call call, HttpEntity body) throws IOException {
        try (Exchange exchange = exchange(call, body)) {
            exchange.requireOk();
            return exchange.readText(MAX_JSON_BYTES);
        }
    }

    /** Runs a call whose answer is streamed to the caller. */
    private InputStream stream(Call call, boolean empty) throws IOException {
        Exchange exchange = exchange(call, null);
        try {
            exchange.requireOk();
            HttpEntity entity = exchange.response.getEntity();
            if (empty || entity == null) {
                exchange.readCapped(MAX_ERROR_BYTES);
                exchange.close();
                return InputStream.nullInputStream();
            }
            return new ResponseStream(exchange, entity.getContent());
        } catch (IpfsException | RuntimeException e) {
            closeQuietly(exchange, e);
            throw e;
        } catch (IOException e) {
            IpfsException failure = KuboErrors.transport(call.toString(), apiBase.toString(), e);
            closeQuietly(exchange, failure);
            throw failure;
        }
    }

    private static void closeQuietly(Exchange exchange, Exception primary) {
        try {
            exchange.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** A streamed answer: maps failures to IpfsException, checks the trailer at its end, aborts early close. */
    private final class ResponseStream extends FilterInputStream {
        private final Exchange exchange;
        private boolean closed;

        ResponseStream(Exchange exchange, InputStream body) {
            super(body);
            this.exchange = exchange;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException e) {
                throw KuboErrors.transport(exchange.call.toString(), apiBase.toString(), e);
            }
            if (n < 0 && !exchange.consumed) {
                exchange.consumed = true;
                checkTrailer(exchange.call, exchange.response.getEntity());
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buffer = new byte[(int) Math.min(8192, Math.max(n, 1))];
            long skipped = 0;
            while (skipped < n) {
                int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
                if (r < 0) {
                    break;
                }
                skipped += r;
            }
            return skipped;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            exchange.close();
        }
    }

    /** Kubo reports an error that happens after the 200 in the X-Stream-Error trailer. */
    private void checkTrailer(Call call, HttpEntity entity) throws IpfsException {
        Supplier<List<? extends Header>> trailers = entity.getTrailers();
        if (trailers == null) {
            return;
        }
        List<? extends Header> headers = trailers.get();
        if (headers == null) {
            return;
        }
        for (Header header : headers) {
            if (header.getName().equalsIgnoreCase("X-Stream-Error") && !header.getValue().isBlank()) {
                throw KuboErrors.fromMessage(call.toString(), header.getValue());
            }
        }
    }

    /** The JSON values of a newline-delimited answer; an error line becomes an exception. */
    private List<JsonNode> lines(Call call, String text) throws IpfsException {
        List<JsonNode> lines = new ArrayList<>();
        try (MappingIterator<JsonNode> it = json.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNextValue()) {
                JsonNode line = it.nextValue();
                if (line.path("Type").asText("").equals("error") && line.has("Message")) {
                    throw KuboErrors.fromMessage(call.toString(), line.path("Message").asText());
                }
                lines.add(line);
            }
        } catch (IpfsException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": unreadable answer " + abbreviate(text), e);
        }
        return lines;
    }

    private JsonNode lastLine(Call call, String text) throws IpfsException {
        List<JsonNode> lines = lines(call, text);
        if (lines.isEmpty()) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": empty answer");
        }
        return lines.get(lines.size() - 1);
    }

    private static Cid cid(Call call, String text) throws IpfsException {
        try {
            return Cid.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IpfsException(IpfsException.Kind.FAILED, call + ": node answered a bad CID '" + text + "'", e);
        }
    }

    private static boolean isDirectory(JsonNode type) {
        // files/stat: "directory" | "file"; files/ls: 1 = directory, 0 = file
        return type.isTextual() ? type.asText().equals("directory") : type.asInt() == 1;
    }

    private static String mfs(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("MFS paths are absolute: " + path);
        }
        return path;
    }

    private static void checkRange(long offset, long length) {
        if (offset < 0 || length < -1) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
    }

    /** A duration as Go's time.ParseDuration reads it (Kubo's global timeout option). */
    private static String goDuration(Duration d) {
        return Math.max(1, d.toMillis()) + "ms";
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
