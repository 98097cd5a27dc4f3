package io.mirrorball.ipfs;

/**
 * Hears of every RPC a node sends to its daemon (Kubo's {@code /api/v0/<command>}): how long the
 * daemon took to answer, and which calls failed. For metrics; called on the caller's thread.
 */
public interface RpcObserver {
    /** Does nothing. */
    RpcObserver NONE = new RpcObserver() {
        @Override
        public void answered(String command, long nanos) {
        }

        @Override
        public void failed(String command) {
        }
    };

    /** The daemon answered {@code command} (e.g. {@code files/stat}) after {@code nanos}. */
    void answered(String command, long nanos);

    /** {@code command} failed: the daemon was unreachable, or answered an error other than "not found". */
    void failed(String command);
}
