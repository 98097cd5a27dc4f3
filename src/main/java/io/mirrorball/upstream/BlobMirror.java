package io.mirrorball.upstream;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import io.mirrorball.store.BlobInfo;
import io.mirrorball.store.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
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
 * Streaming blobs from the upstream to a client, verified, and (with {@code upstream.mirror}) single-flight
 * mirroring into IPFS.
 *
 * <p>Every byte is verified before the client can take the answer as complete: the whole blob is read from
 * the upstream (never a Range of it: a range cannot be checked against the digest), hashed, and checked
 * against the digest and the declared length; the client gets its part of it (all of it, or the range it
 * asked for) with the last buffer withheld until the digest matched. On a mismatch the response is
 * aborted, and since it always carries a Content-Length the client sees a body that ended short, even on
 * {@code Connection: close}. A mismatch before anything was sent is a clean 502.
 *
 * <p>With mirroring, the first request for a blob that IPFS does not hold becomes the leader: it hands the
 * upstream fetch to a mirror thread, which writes every byte to a spool file ({@link MirrorPipe}) that an
 * IPFS add on another mirror thread reads behind it; the add is completed only after the digest matched,
 * else failed (nothing is placed). The leader's client reads the spool like a joiner's (below), so a slow or
 * stalled leader client slows nobody else; an upstream refusal or a wrong length still reaches it as a clean
 * error before any byte. The fetch goes on while anyone reads the spool: the leader's client going away
 * ends nothing, and while the IPFS add runs the fetch completes into IPFS even if every client left; with
 * no reader and no add left it stops. When every mirror thread is busy, the leader fetches on its own
 * request thread, writing to its client as it goes (and mirrors only if a thread frees up for the add).
 * Requests for the same digest that arrive meanwhile are joiners: they tail the same spool file as the bytes
 * arrive, each at its own pace, and send their part of the blob (all of it or their range) with their last
 * buffer withheld until the leader verified the blob; if the leader fails, every joiner's response is
 * aborted, and a joiner that has sent nothing yet tries again (one becomes the next leader). So N
 * concurrent pulls make one upstream GET and all of them stream at once. The spool file is deleted when the
 * leader, the add and every joiner are done with it; a request that comes after the blob is in IPFS is
 * served from there.
 */
final class BlobMirror {
    private static final Logger LOG = LoggerFactory.getLogger(BlobMirror.class);
    static final int CHUNK = 64 * 1024;

    private final BlobStore blobs;
    private final java.util.function.Predicate<Digest> mirroredContent;
    private final ExecutorService mirrorThreads;
    private final Duration joinTimeout;
    private final Duration stall;
    private final Path spool;
    private final ConcurrentHashMap<Digest, BlobFlight> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong mirrored = new AtomicLong();
    /** Told of every blob this mirror put into the store, on the mirror thread that put it. */
    private volatile java.util.function.Consumer<BlobInfo> onMirrored = info -> { };

    /** Opens the upstream GET of a blob (auth, redirects done); the caller checks its status. */
    interface Fetch {
        UpstreamClient.Exchange open() throws IOException;
    }

    /** Checks a non-200 upstream answer and throws the right error; never returns normally. */
    interface Refusal {
        RuntimeException of(UpstreamClient.Exchange exchange) throws IOException;
    }

    /** A blob to fetch: its digest, the size its descriptor declared (-1 if unknown), and the action for messages. */
    record Request(Digest digest, long knownSize, String action) {
    }

    /** What a joiner did: streamed the blob itself, or found it in IPFS ({@code stored}). */
    private record Joined(boolean streamed, BlobInfo stored) {
    }

    /**
     * @param mirrored which stored blobs came from an upstream (see {@link CacheListener#holds}): only those
     *                 are served from the store; another one is fetched and verified like a missing one
     */
    BlobMirror(BlobStore blobs, java.util.function.Predicate<Digest> mirrored, ExecutorService mirrorThreads,
               Duration joinTimeout, Duration stall, Path spool) {
        this.blobs = blobs;
        this.mirroredContent = mirrored;
        this.spool = spool;
        this.mirrorThreads = mirrorThreads;
        this.joinTimeout = joinTimeout;
        this.stall = stall;
    }

    /** Sets what is told of each blob put into the store (the add may finish after every client is served). */
    void onMirrored(java.util.function.Consumer<BlobInfo> listener) {
        this.onMirrored = listener;
    }

    long mirroredCount() {
        return mirrored.get();
    }

    /**
     * Serves a blob that IPFS does not hold yet, mirroring it. Returns the blob when it is (now) in IPFS and
     * the caller should serve it from there; empty when this call streamed it to {@code sink} itself (as the
     * leader, or as a joiner from the leader's spool).
     */
    Optional<BlobInfo> serve(Request blob, Fetch fetch, Refusal refusal, ResponseSink sink) throws IOException {
        Digest digest = blob.digest();
        for (int attempt = 0; attempt < 3; attempt++) {
            BlobFlight mine = new BlobFlight();
            BlobFlight leader = inFlight.putIfAbsent(digest, mine);
            if (leader != null) {
                Joined joined = join(blob, leader, sink);
                if (joined == null) {
                    continue;
                }
                if (joined.streamed()) {
                    return Optional.empty();
                }
                Optional<BlobInfo> stored = joined.stored() != null ? Optional.of(joined.stored())
                        : mirroredStat(digest);
                if (stored.isPresent()) {
                    return stored;
                }
                continue;
            }
            boolean handedOver = false;
            try {
                Optional<BlobInfo> stored = mirroredStat(digest);
                if (stored.isPresent()) {
                    mine.succeeded(stored.get());
                    return stored;
                }
                MirrorPipe pipe = new MirrorPipe(spool, stall);
                MirrorPipe.Hold place = pipe.hold();
                if (startFetch(blob, fetch, refusal, mine, pipe)) {
                    handedOver = true;  // the fetch thread completes the flight and closes the pipe
                    return follow(blob, mine, place, sink);
                }
                place.close();
                pipe.close();
                BlobInfo info = lead(blob, fetch, refusal, sink, mine);
                mine.succeeded(info);
                return Optional.empty();
            } catch (IOException | RuntimeException | Error e) {
                if (!handedOver) {
                    mine.failed(e);
                }
                throw e;
            } finally {
                if (!handedOver) {
                    inFlight.remove(digest, mine);
                }
            }
        }
        throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action() + ": the fetch failed three times");
    }

    /** The stored blob when it came from an upstream. */
    private Optional<BlobInfo> mirroredStat(Digest digest) throws IOException {
        Optional<BlobInfo> stored = blobs.stat(digest);
        return stored.isPresent() && mirroredContent.test(digest) ? stored : Optional.empty();
    }

    /**
     * Runs the upstream fetch of {@code flight} on a mirror thread, writing into {@code pipe}; false (and
     * nothing started) when every mirror thread is busy: the caller then fetches on its own thread.
     */
    private boolean startFetch(Request blob, Fetch fetch, Refusal refusal, BlobFlight flight, MirrorPipe pipe) {
        try {
            mirrorThreads.execute(() -> fetchDetached(blob, fetch, refusal, flight, pipe));
            return true;
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: every mirror thread is busy; fetching on the request's thread", blob.action());
            return false;
        }
    }

    /**
     * The upstream fetch on a mirror thread: reads the whole blob into {@code pipe}, verified, and into IPFS
     * when a mirror thread is free for the add; then completes {@code flight}. No client is written to here,
     * so no client's pace matters. The fetch goes on while anyone reads the pipe (a client, or the IPFS add,
     * which keeps it going to the end), and stops when nobody does.
     */
    private void fetchDetached(Request blob, Fetch fetch, Refusal refusal, BlobFlight flight, MirrorPipe pipe) {
        Digest digest = blob.digest();
        Future<BlobInfo> stored = null;
        Throwable failure = null;
        BlobInfo info = null;
        try (pipe) {
            try (UpstreamClient.Exchange upstream = fetch.open()) {
                if (upstream.status() != 200) {
                    throw refusal.of(upstream);
                }
                long size;
                try {
                    size = size(blob, upstream);
                } catch (RuntimeException e) {
                    upstream.abort();
                    throw e;
                }
                flight.started(pipe, size);
                stored = startMirror(pipe, digest);
                copy(blob, upstream, size, null, null, pipe);
            }
            info = awaitMirror(digest, stored);
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            LOG.debug("{}: the upstream fetch failed: {}", blob.action(), e.toString());
        } finally {
            try {
                if (failure != null) {
                    awaitEnd(stored);  // the add's reader is closed: the spool file goes with the last client
                }
            } finally {
                inFlight.remove(digest, flight);  // before the outcome: a joiner that retries starts afresh
                if (failure == null) {
                    flight.succeeded(info);
                } else {
                    flight.failed(failure);
                }
            }
        }
    }

    /**
     * The leader's client, served from the spool like a joiner's while a mirror thread fetches. Failures of
     * the fetch reach it as they would have on its own thread: an upstream refusal or a bad length before
     * any byte as a clean error, a failure after that as the fetch's error (the response is then aborted).
     */
    private Optional<BlobInfo> follow(Request blob, BlobFlight flight, MirrorPipe.Hold place, ResponseSink sink)
            throws IOException {
        try {
            BlobFlight.Spool spooled;
            try {
                spooled = flight.awaitSpool(joinTimeout);
            } catch (TimeoutException e) {
                throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, blob.action()
                        + ": waited " + joinTimeout + " for the upstream");
            }
            if (spooled != null && tail(blob, spooled, sink, flight, place)) {
                return Optional.empty();
            }
            BlobInfo stored = outcome(blob, flight, joinTimeout);
            if (stored != null) {
                return Optional.of(stored);  // never reached: the fetch streams into the spool when it succeeds
            }
            throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action() + ": the upstream fetch ended early");
        } finally {
            place.close();
        }
    }

    /** The fetch's result, or its failure thrown as it is. */
    private static BlobInfo outcome(Request blob, BlobFlight flight, Duration timeout) throws IOException {
        try {
            return flight.awaitOutcome(timeout);
        } catch (TimeoutException e) {
            throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, blob.action()
                    + ": no bytes from the upstream for " + timeout);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            if (cause instanceof IOException io) {
                LOG.debug("{}: the upstream fetch failed: {}", blob.action(), io.toString());
            }
            throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action()
                    + ": the upstream fetch failed; nothing was stored");
        }
    }

    /** Waits (at most the stall) for a failed fetch's add to end: its reader throws the fetch's failure. */
    private void awaitEnd(Future<BlobInfo> stored) {
        if (stored == null) {
            return;
        }
        try {
            stored.get(stall.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            LOG.debug("the mirror add ended: {}", e.getCause().toString());
        } catch (TimeoutException e) {
            stored.cancel(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Streams a blob to {@code sink}, verified, without mirroring it ({@code upstream.mirror: false}). */
    void stream(Request blob, Fetch fetch, Refusal refusal, ResponseSink sink) throws IOException {
        lead(blob, fetch, refusal, sink, null);
    }

    /**
     * Joins the leader's fetch: streams from its spool when it has one, else waits for its result. Null when
     * it failed in a way that another attempt may fix, and this client has not been sent anything.
     */
    private Joined join(Request blob, BlobFlight flight, ResponseSink sink) throws IOException {
        Digest digest = blob.digest();
        BlobFlight.Spool spooled;
        try {
            spooled = flight.awaitSpool(joinTimeout);
        } catch (TimeoutException e) {
            throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, "blob " + digest
                    + ": waited " + joinTimeout + " for the fetch in flight");
        }
        if (spooled != null && tail(blob, spooled, sink, null, null)) {
            return new Joined(true, null);
        }
        try {
            return new Joined(false, flight.awaitOutcome(joinTimeout));
        } catch (TimeoutException e) {
            throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, "blob " + digest
                    + ": waited " + joinTimeout + " for the fetch in flight");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // the upstream's own answer (404, 429, 401...) is the same for everyone: no second fetch
            if (cause instanceof UpstreamErrorException upstream && !upstream.isServerError()) {
                throw upstream;
            }
            // a client's own error (its range) is not the upstream's answer: the joiner tries for itself
            if (cause instanceof OciException oci && oci.code().status() < 500
                    && oci.code() != OciErrorCode.RANGE_NOT_SATISFIABLE) {
                throw oci;
            }
            LOG.debug("leader for {} failed ({}); trying again", digest, cause.toString());
            return null;
        }
    }

    /**
     * Streams this client's part of the blob from the leader's spool as it grows, the last buffer withheld
     * until the leader verified the blob. False when the spool is gone already (the blob is in IPFS, or the
     * leader failed) or the leader failed before this client was sent a byte; a failure after that aborts
     * the response. For the leader's own client ({@code place} not null: its place in the spool, released
     * once its reader is open) a failure of the fetch is thrown as it is, taken from {@code flight}.
     */
    private boolean tail(Request blob, BlobFlight.Spool spooled, ResponseSink sink, BlobFlight flight,
                         MirrorPipe.Hold place) throws IOException {
        long size = spooled.size();
        ResponseSink.Slice slice = sink.range(size);
        long from = slice == null ? 0 : slice.offset();
        long to = slice == null ? size : slice.offset() + slice.length();
        try (InputStream in = spooled.pipe().reader(from, to)) {
            if (place != null) {
                place.close();
            }
            if (in == null) {
                return false;
            }
            headers(sink, blob.digest(), size, slice);
            WithheldOutput client = new WithheldOutput(sink, CHUNK);
            byte[] buffer = new byte[CHUNK];
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (IOException e) {
                    if (place != null) {
                        outcome(blob, flight, stall);  // throws the fetch's failure as it is
                        LOG.debug("{}: {}", blob.action(), e.toString());
                        throw new OciException(OciErrorCode.GATEWAY_TIMEOUT, blob.action()
                                + ": waited longer than " + stall + " for bytes of the upstream fetch");
                    }
                    if (!client.sentAny()) {
                        return false;
                    }
                    LOG.debug("{}: the fetch this request joined failed: {}", blob.action(), e.toString());
                    throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action()
                            + ": the upstream fetch in flight failed; nothing was stored");
                }
                if (n < 0) {
                    break;
                }
                client.write(buffer, 0, n);
            }
            client.release();
            return true;
        }
    }

    /**
     * Streams the whole upstream body, verified, sending the client its part, and (when {@code flight} is
     * not null) into a spool for IPFS and the joiners. Returns the stored blob, or null when not mirrored
     * (or the mirror did not complete).
     */
    private BlobInfo lead(Request blob, Fetch fetch, Refusal refusal, ResponseSink sink, BlobFlight flight)
            throws IOException {
        try (UpstreamClient.Exchange upstream = fetch.open()) {
            if (upstream.status() != 200) {
                throw refusal.of(upstream);
            }
            long size;
            ResponseSink.Slice slice;
            try {
                size = size(blob, upstream);
                slice = sink.range(size);
            } catch (RuntimeException e) {
                upstream.abort();
                throw e;
            }
            Digest digest = blob.digest();
            headers(sink, digest, size, slice);
            if (flight == null) {
                copy(blob, upstream, size, slice, sink, null);
                return null;
            }
            try (MirrorPipe pipe = new MirrorPipe(spool, stall)) {
                flight.started(pipe, size);
                Future<BlobInfo> stored = startMirror(pipe, digest);
                IOException clientGone = copy(blob, upstream, size, slice, sink, pipe);
                BlobInfo info = awaitMirror(digest, stored);
                if (clientGone != null) {
                    flight.succeeded(info);
                    throw clientGone;
                }
                return info;
            }
        }
    }

    private static void headers(ResponseSink sink, Digest digest, long size, ResponseSink.Slice slice) {
        sink.status(slice == null ? 200 : 206);
        sink.header("Docker-Content-Digest", digest.toString());
        sink.header("ETag", "\"" + digest + "\"");
        sink.header("Accept-Ranges", "bytes");
        sink.header("Content-Type", "application/octet-stream");
        if (slice != null) {
            sink.header("Content-Range", "bytes " + slice.offset() + "-" + (slice.offset() + slice.length() - 1)
                    + "/" + size);
        }
        sink.contentLength(slice == null ? size : slice.length());
    }

    /** The blob's length: declared by the upstream, and equal to its descriptor's size when that is known. */
    private static long size(Request blob, UpstreamClient.Exchange upstream) {
        long declared = upstream.contentLength();
        if (declared < 0 && blob.knownSize() < 0) {
            throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action()
                    + ": the upstream did not declare the blob's length");
        }
        if (declared >= 0 && blob.knownSize() >= 0 && declared != blob.knownSize()) {
            throw new OciException(OciErrorCode.BAD_GATEWAY, blob.action() + ": the upstream declared " + declared
                    + " bytes, its manifest " + blob.knownSize());
        }
        return declared >= 0 ? declared : blob.knownSize();
    }

    /**
     * Reads the whole body, at most {@code size} bytes, hashing it; writes the client's slice with its last
     * buffer withheld, and every byte to {@code pipe} (if any). Only after the length and digest matched are
     * the last bytes released and the mirror completed; on any failure the upstream exchange and the mirror
     * are aborted and the exception propagates (the caller's response is then aborted). When the client goes
     * away while joiners read the pipe, the fetch carries on for them: returns the client's failure then
     * (null when the client got its part). Without a client ({@code sink} null: the fetch on a mirror thread)
     * every byte goes to {@code pipe} only, and the fetch stops when nobody reads the pipe any more.
     */
    private static IOException copy(Request blob, UpstreamClient.Exchange upstream, long size, ResponseSink.Slice slice,
                             ResponseSink sink, MirrorPipe pipe) throws IOException {
        long first = slice == null ? 0 : slice.offset();
        long last = slice == null ? size - 1 : slice.offset() + slice.length() - 1;
        WithheldOutput client = sink == null ? null : new WithheldOutput(sink, CHUNK);
        MessageDigest md = blob.digest().newMessageDigest();
        boolean mirroring = pipe != null;
        byte[] buffer = new byte[CHUNK];
        long position = 0;
        IOException clientGone = null;
        try {
            // not try-with-resources: closing the body of a failed exchange would read the rest of it
            InputStream in = upstream.blobBody();
            while (true) {
                int n;
                try {
                    n = in.read(buffer, 0, (int) Math.min(buffer.length, size - position + 1));
                } catch (IOException e) {
                    throw upstream.failure(e);
                }
                if (n < 0) {
                    break;
                }
                if (position + n > size) {
                    throw wrongBytes(blob, "more than the " + size + " bytes declared");
                }
                md.update(buffer, 0, n);
                if (mirroring) {
                    mirroring = pipe.offer(buffer, n);
                }
                if (client == null) {
                    if (!mirroring) {
                        throw new IOException("the mirror spool failed");
                    }
                    if (!pipe.hasReaders()) {
                        throw new IOException("nobody reads the blob any more");
                    }
                    position += n;
                    continue;
                }
                long from = Math.max(position, first);
                long to = Math.min(position + n - 1, last);
                if (from <= to && clientGone == null) {
                    try {
                        client.write(buffer, (int) (from - position), (int) (to - from + 1));
                    } catch (IOException e) {
                        if (!mirroring || !pipe.hasJoiners()) {
                            throw e;
                        }
                        LOG.debug("{}: the client went away; fetching on for the joiners", blob.action());
                        clientGone = e;
                    }
                }
                position += n;
            }
            if (position != size) {
                throw wrongBytes(blob, position + " bytes instead of " + size);
            }
            if (!Arrays.equals(md.digest(), blob.digest().bytes())) {
                throw wrongBytes(blob, "bytes that do not match the digest");
            }
            in.close();
            if (mirroring) {
                pipe.finish();  // the joiners' last bytes do not wait for this client's
            }
            if (client != null && clientGone == null) {
                client.release();
            }
            return clientGone;
        } catch (IOException | RuntimeException e) {
            upstream.abort();
            if (pipe != null) {
                pipe.fail(e instanceof IOException io ? io : new IOException(e.getMessage(), e));
            }
            throw e;
        }
    }

    private static OciException wrongBytes(Request blob, String what) {
        OciException error = new OciException(OciErrorCode.BAD_GATEWAY, blob.action() + ": the upstream sent "
                + what + "; nothing was stored");
        LOG.warn(error.getMessage());
        return error;
    }

    /**
     * Starts the IPFS add of the blob in {@code pipe} on a mirror thread; null when every one is busy. The add
     * counts as a reader of the pipe from now on (a fetch with no client left goes on for it).
     */
    private Future<BlobInfo> startMirror(MirrorPipe pipe, Digest digest) throws IOException {
        MirrorPipe.Hold place = pipe.hold();
        try {
            return mirrorThreads.submit(() -> {
                try (place; InputStream in = pipe.reader()) {
                    place.close();
                    BlobInfo info = blobs.put(in, digest);
                    mirrored.incrementAndGet();
                    onMirrored.accept(info);
                    return info;
                }
            });
        } catch (RejectedExecutionException e) {
            place.close();
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
}
