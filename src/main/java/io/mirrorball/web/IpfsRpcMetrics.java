package io.mirrorball.web;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.mirrorball.ipfs.RpcObserver;
import java.util.concurrent.TimeUnit;

/** The node's RPCs as metrics: a timer {@code ipfs.rpc.<command>} and the counter {@code ipfs.rpc.errors}. */
final class IpfsRpcMetrics implements RpcObserver {
    static final String PREFIX = "ipfs.rpc.";
    private final MetricRegistry metrics;
    private final Counter errors;

    IpfsRpcMetrics(MetricRegistry metrics) {
        this.metrics = metrics;
        this.errors = metrics.counter(PREFIX + "errors");
    }

    @Override
    public void answered(String command, long nanos) {
        // a command is a path (files/stat): no dots, so it stays one segment of the dotted name
        metrics.timer(PREFIX + command.replace('.', '_')).update(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void failed(String command) {
        errors.inc();
    }
}
