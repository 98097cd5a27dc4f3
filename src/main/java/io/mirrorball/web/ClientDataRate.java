package io.mirrorball.web;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.NanoTime;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimum data rate for clients of the embedded server: while a request waits on its client (to
 * send body bytes, or to take response bytes), every {@code window} of such waiting must move at
 * least {@code bytesPerSecond * window} bytes, or the connection is closed. A client that
 * trickles a body at a byte a second, or never reads a blob it asked for, would otherwise hold a
 * request thread for as long as it likes: the idle timeout never fires while a byte moves now and
 * then.
 *
 * <p>Only time spent waiting on the client counts: a request that waits on IPFS, a clone or the
 * upstream is never cut. The rate is averaged over the window rather than checked per read, so
 * small bodies, slow starts and pauses shorter than the window pass. Jetty 12's
 * {@code MinimumDataRateHandler} checks only when the application reads or writes again (never
 * while a read or write is blocked) and averages over the whole request, hence this class.
 */
final class ClientDataRate extends Handler.Wrapper {
    private static final Logger LOG = LoggerFactory.getLogger(ClientDataRate.class);

    private final long bytesPerSecond;
    private final long windowNanos;
    private final Scheduler scheduler;
    private final Set<Exchange> exchanges = ConcurrentHashMap.newKeySet();
    private volatile Scheduler.Task sweep;

    /**
     * @param bytesPerSecond the minimum rate; at least 1
     * @param window         the waiting time the rate is averaged over
     * @param scheduler      the server's scheduler, on which the rates are checked
     */
    ClientDataRate(Handler handler, long bytesPerSecond, Duration window, Scheduler scheduler) {
        super(handler);
        if (bytesPerSecond < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("rate " + bytesPerSecond + " B/s over " + window);
        }
        this.bytesPerSecond = bytesPerSecond;
        this.windowNanos = window.toNanos();
        this.scheduler = scheduler;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        scheduleSweep();
    }

    @Override
    protected void doStop() throws Exception {
        Scheduler.Task task = sweep;
        if (task != null) {
            task.cancel();
        }
        super.doStop();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Exchange exchange = new Exchange(request.getConnectionMetaData().getConnection().getEndPoint());
        exchanges.add(exchange);
        Callback done = new Callback.Nested(callback) {
            @Override
            public void completed() {
                exchanges.remove(exchange);
            }
        };
        boolean handled;
        try {
            MeteredRequest meteredRequest = new MeteredRequest(request, exchange);
            handled = super.handle(meteredRequest, new MeteredResponse(meteredRequest, response, exchange), done);
        } catch (Throwable e) {
            exchanges.remove(exchange);
            throw e;
        }
        if (!handled) {
            exchanges.remove(exchange);
        }
        return handled;
    }

    private void scheduleSweep() {
        if (isRunning() || isStarting()) {
            sweep = scheduler.schedule(this::sweep, Math.max(100_000_000L, Math.min(1_000_000_000L,
                    windowNanos / 4)), TimeUnit.NANOSECONDS);
        }
    }

    private void sweep() {
        try {
            long now = NanoTime.now();
            for (Exchange exchange : exchanges) {
                if (exchange.tooSlow(now)) {
                    exchanges.remove(exchange);
                    String why = "client moved fewer than " + bytesPerSecond + " bytes/s over "
                            + Duration.ofNanos(windowNanos).toSeconds() + "s of waiting";
                    LOG.info("closing the connection of {}: {}", exchange.endPoint.getRemoteSocketAddress(), why);
                    exchange.endPoint.close(new TimeoutException(why));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("checking client data rates", e);
        } finally {
            scheduleSweep();
        }
    }

    /**
     * One request: the bytes it moved to or from the client, and how long it waited on the client.
     * Reads and writes pending at the same time count as one wait.
     */
    private final class Exchange {
        private final EndPoint endPoint;
        private long bytes;
        private int pending;
        private long pendingSince;
        private long waited;
        private long checkedWaited;
        private long checkedBytes;

        Exchange(EndPoint endPoint) {
            this.endPoint = endPoint;
        }

        synchronized void waitBegins() {
            if (pending++ == 0) {
                pendingSince = NanoTime.now();
            }
        }

        synchronized void waitEnds() {
            if (pending > 0 && --pending == 0) {
                waited += NanoTime.since(pendingSince);
            }
        }

        synchronized void moved(long n) {
            bytes += n;
        }

        /** True when a whole window of waiting has passed since the last check with too few bytes. */
        synchronized boolean tooSlow(long now) {
            long total = waited + (pending > 0 ? Math.max(0, now - pendingSince) : 0);
            long span = total - checkedWaited;
            if (span < windowNanos) {
                return false;
            }
            boolean slow = (bytes - checkedBytes) * 1_000_000_000.0 / span < bytesPerSecond;
            checkedWaited = total;
            checkedBytes = bytes;
            return slow;
        }
    }

    /** Counts body bytes, and the time spent waiting for them. */
    private static final class MeteredRequest extends Request.Wrapper {
        private final Exchange exchange;

        MeteredRequest(Request request, Exchange exchange) {
            super(request);
            this.exchange = exchange;
        }

        @Override
        public Content.Chunk read() {
            Content.Chunk chunk = super.read();
            if (chunk != null) {
                exchange.moved(chunk.remaining());
            }
            return chunk;
        }

        @Override
        public void demand(Runnable demandCallback) {
            exchange.waitBegins();
            super.demand(Invocable.from(Invocable.getInvocationType(demandCallback), () -> {
                exchange.waitEnds();
                demandCallback.run();
            }));
        }
    }

    /** Counts response bytes, and the time spent waiting for the client to take them. */
    private static final class MeteredResponse extends Response.Wrapper {
        private final Exchange exchange;

        MeteredResponse(Request request, Response response, Exchange exchange) {
            super(request, response);
            this.exchange = exchange;
        }

        /**
         * A write's bytes are credited as it starts: a client on a slow link that takes one large
         * write (128 KiB) in more than a window must not be cut, though its progress within the
         * write cannot be seen. A client that takes nothing at all is closed by the idle timeout.
         */
        @Override
        public void write(boolean last, ByteBuffer content, Callback callback) {
            exchange.moved(content == null ? 0 : content.remaining());
            exchange.waitBegins();
            super.write(last, content, new Callback.Nested(callback) {
                @Override
                public void succeeded() {
                    exchange.waitEnds(); // before the next write can begin
                    super.succeeded();
                }

                @Override
                public void failed(Throwable x) {
                    exchange.waitEnds();
                    super.failed(x);
                }
            });
        }
    }
}
