package io.mirrorball.upstream;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-flight mirroring of blobs into IPFS.
 *
 * <p>The first request for a blob that IPFS does not hold becomes the leader: it streams the upstream
 * body to its client chunk by chunk (a chunk is written to the client before the next is read) and hands
 * each chunk to an IPFS add on a mirror thread through a bounded {@link MirrorPipe}. The leader hashes
 * what it streams and holds back the last chunk until the digest matches, so a client never receives all
 * of a wrong blob: on a mismatch the mirror is failed (nothing is placed) and the client's connection is
 * aborted. Requests for the same digest that arrive meanwhile are joiners: they wait for the leader's
 * result and then serve the blob from IPFS, so N concurrent pulls make one upstream GET. If the leader
 * fails, one joiner becomes the next leader.
 */
final class BlobMirror {
    private static final Logger LOG = LoggerFactory.getLogger(BlobMirror.class);
    static final int CHUNK = 64 * 1024;

    private final BlobStore blobs;
    private final ExecutorService mirrorThreads;
    private final Duration joinTimeout;
    private final Duration stall;
    private final java.nio.file.Path spool;
    private final ConcurrentHashMap<Digest, CompletableFuture<BlobInfo>> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong mirrored = new AtomicLong();

    /** Opens the upstream GET of a blob (auth, redirects done); the caller checks its status. */
    interface Fetch {
        UpstreamClient.Exchange open() throws IOException;
    }

    /** Checks a non-200 upstream answer and throws the right error; never returns normally. */
    interface Refusal {
        RuntimeException of(UpstreamClient.Exchange exchange) throws IOException;
    }

    BlobMirror(BlobStore blobs, ExecutorService mirrorThreads, Duration joinTimeout, Duration stall,
               java.nio.file.Path spool) {
        this.blobs = blobs;
        this.spool = spool;
        this.mirrorThreads = mirrorThreads;
        this.joinTimeout = joinTimeout;
        this.stall = stall;
    }

    long mirroredCount() {
        return mirrored.get();
    }

    /**
     * Serves a blob that IPFS does not hold yet. Returns the blob when it is (now) in IPFS and the caller
     * should serve it from there; empty when this call streamed it to {@code sink} itself.
     */
    Optional<BlobInfo> serve(Digest digest, Fetch fetch, Refusal refusal, ResponseSink sink) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            CompletableFuture<BlobInfo> mine = new CompletableFuture<>();
            CompletableFuture<BlobInfo> leader = inFlight.putIfAbsent(digest, mine);
            if (leader != null) {
                Optional<BlobInfo> joined = join(digest, leader);
                if (joined.isPresent()) {
                    return joined;
                }
                continue;
            }
            try {
                Optional<BlobInfo> stored = blobs.stat(digest);
                if (stored.isPresent()) {
                    mine.complete(stored.get());
                    return stored;
                }
                BlobInfo info = lead(digest, fetch, refusal, sink);
                mine.complete(info);
                return Optional.empty();
            } catch (IOException | RuntimeException | Error e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                inFlight.remove(digest, mine);
            }
        }
        throw new OciException(OciErrorCode.BAD_GATEWAY, "mirror " + digest + ": the fetch failed three times");
    }

    /** Waits for the leader; empty when it failed in a way that another attempt may fix. */
    private Optional<BlobInfo> join(Digest digest, CompletableFuture<BlobInfo> leader) throws IOException {
        try {
            BlobInfo info = leader.get(joinTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return info == null ? blobs.stat(digest) : Optional.of(info);
        } catch (TimeoutException e) {
            throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, "blob " + digest
                    + ": waited " + joinTimeout + " for the fetch in flight");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for " + digest);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // the upstream's own answer (404, 429, 401...) is the same for everyone: no second fetch
            if (cause instanceof UpstreamErrorException upstream && !upstream.isServerError()) {
                throw upstream;
            }
            if (cause instanceof OciException oci && oci.code().status() < 500) {
                throw oci;
            }
            LOG.debug("leader for {} failed ({}); trying again", digest, cause.toString());
            return Optional.empty();
        }
    }

    /**
     * Streams the upstream body to the client and into IPFS. Returns the stored blob, or null when the
     * client got every byte but the mirror did not complete (IPFS slow or failing).
     */
    private BlobInfo lead(Digest digest, Fetch fetch, Refusal refusal, ResponseSink sink) throws IOException {
        try (UpstreamClient.Exchange upstream = fetch.open()) {
            if (upstream.status() != 200) {
                throw refusal.of(upstream);
            }
            long length = upstream.contentLength();
            sink.status(200);
            sink.header("Docker-Content-Digest", digest.toString());
            sink.header("ETag", "\"" + digest + "\"");
            sink.header("Accept-Ranges", "bytes");
            sink.header("Content-Type", "application/octet-stream");
            if (length >= 0) {
                sink.contentLength(length);
            }
            try (MirrorPipe pipe = new MirrorPipe(spool, stall)) {
                return tee(digest, upstream, length, pipe, sink);
            }
        }
    }

    private BlobInfo tee(Digest digest, UpstreamClient.Exchange upstream, long length, MirrorPipe pipe,
                         ResponseSink sink) throws IOException {
        {
            Future<BlobInfo> stored = startMirror(pipe, digest);
            boolean mirroring = stored != null;
            try (InputStream in = upstream.body()) {
                OutputStream client = sink.body();
                MessageDigest md = digest.newMessageDigest();
                byte[] pending = new byte[CHUNK];
                byte[] next = new byte[CHUNK];
                int pendingLength = readChunk(in, pending);
                long total = pendingLength;
                while (pendingLength == CHUNK) {
                    int nextLength = readChunk(in, next);
                    if (nextLength == 0) {
                        break;
                    }
                    md.update(pending, 0, pendingLength);
                    client.write(pending, 0, pendingLength);
                    if (mirroring) {
                        mirroring = pipe.offer(pending, pendingLength);
                    }
                    byte[] swap = pending;
                    pending = next;
                    next = swap;
                    pendingLength = nextLength;
                    total += nextLength;
                    if (length >= 0 && total > length) {
                        throw wrongBytes(digest, pipe, upstream, "more than the " + length + " bytes announced");
                    }
                }
                md.update(pending, 0, pendingLength);
                if (length >= 0 && total != length) {
                    throw wrongBytes(digest, pipe, upstream, total + " bytes instead of " + length);
                }
                if (!Arrays.equals(md.digest(), digest.bytes())) {
                    throw wrongBytes(digest, pipe, upstream, "bytes that do not match the digest");
                }
                client.write(pending, 0, pendingLength);
                client.flush();
                if (mirroring) {
                    mirroring = pipe.offer(pending, pendingLength);
                }
                if (mirroring) {
                    pipe.finish();
                }
            } catch (IOException | RuntimeException e) {
                pipe.fail(e instanceof IOException io ? io : new IOException(e));
                throw e;
            }
            return awaitMirror(digest, stored);
        }
    }

    private static OciException wrongBytes(Digest digest, MirrorPipe pipe, UpstreamClient.Exchange upstream,
                                           String what) {
        OciException error = new OciException(OciErrorCode.BAD_GATEWAY, "pull blob " + digest
                + " from upstream: it sent " + what + "; nothing was stored");
        pipe.fail(new IOException(error.getMessage()));
        upstream.abort();
        LOG.warn(error.getMessage());
        return error;
    }

    private Future<BlobInfo> startMirror(MirrorPipe pipe, Digest digest) {
        try {
            return mirrorThreads.submit(() -> {
                try (InputStream in = pipe.reader()) {
                    BlobInfo info = blobs.put(in, digest);
                    mirrored.incrementAndGet();
                    return info;
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.warn("mirror {}: every mirror thread is busy; streaming without mirroring", digest);
            return null;
        }
    }

    private BlobInfo awaitMirror(Digest digest, Future<BlobInfo> stored) {
        if (stored == null) {
            return null;
        }
        try {
            return stored.get(joinTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            LOG.warn("mirror {} into IPFS failed: {}", digest, e.getCause().toString());
        } catch (TimeoutException e) {
            stored.cancel(true);
            LOG.warn("mirror {} into IPFS did not finish within {}", digest, joinTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private static int readChunk(InputStream in, byte[] buffer) throws IOException {
        int filled = 0;
        while (filled < buffer.length) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        return filled;
    }
}
