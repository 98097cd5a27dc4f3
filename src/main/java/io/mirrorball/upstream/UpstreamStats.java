package io.mirrorball.upstream;

import com.codahale.metrics.Counter;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one upstream's traffic looked like: pulls answered from what mirrorball holds (hits) or fetched
 * from the upstream (misses), failed exchanges (errors), and how the last exchange went. Read by the
 * metrics and by {@code /readyz}; nothing here contacts the upstream.
 */
public final class UpstreamStats {
    /** How the last exchange with the upstream went. */
    public enum State {
        /** Nothing was sent yet. */
        UNKNOWN,
        /** It answered (any answer but a server error or 429). */
        OK,
        /** It could not be reached, timed out or answered with a server error. */
        FAILING,
        /** It answered 429. */
        RATE_LIMITED;

        /** The state as a word for JSON: {@code ok}, {@code failing}, {@code rate-limited}, {@code unknown}. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** The last exchange: its state and when it ended. */
    public record Contact(State state, Instant at) {
    }

    private final Clock clock;
    private final Counter hits = new Counter();
    private final Counter misses = new Counter();
    private final Counter errors = new Counter();
    private final AtomicReference<Contact> last = new AtomicReference<>();

    UpstreamStats(Clock clock) {
        this.clock = clock;
    }

    /** Pulls answered from the memory cache or the store, without fetching from the upstream. */
    public Counter hits() {
        return hits;
    }

    /** Pulls whose content was fetched from the upstream. */
    public Counter misses() {
        return misses;
    }

    /** Exchanges that failed, timed out, or were answered with a server error or 429. */
    public Counter errors() {
        return errors;
    }

    /** The last exchange with the upstream; empty before the first. */
    public Optional<Contact> lastContact() {
        return Optional.ofNullable(last.get());
    }

    /** The state of the last exchange, {@link State#UNKNOWN} before the first. */
    public State state() {
        Contact contact = last.get();
        return contact == null ? State.UNKNOWN : contact.state();
    }

    void hit() {
        hits.inc();
    }

    void miss() {
        misses.inc();
    }

    /** An exchange ended with an answer of this status. */
    void answered(int status) {
        State state = status == 429 ? State.RATE_LIMITED : status >= 500 ? State.FAILING : State.OK;
        if (state != State.OK) {
            errors.inc();
        }
        last.set(new Contact(state, clock.instant()));
    }

    /** An exchange failed without a usable answer (unreachable, timed out, refused). */
    void failed() {
        errors.inc();
        last.set(new Contact(State.FAILING, clock.instant()));
    }
}
