package io.mirrorball.web;

import io.mirrorball.config.MirrorballConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the TLS certificate of the embedded server in step with its PEM files: every
 * {@code interval} it reads both files, and when their contents changed and parse into a key that
 * belongs to its certificate, swaps them into the {@link SslContextFactory} with
 * {@link SslContextFactory#reload}. The listener stays open, open connections keep the certificate
 * they shook hands with, and new ones get the new one. Contents that do not parse (a file half
 * written, a certificate renewed before its key) are logged once as a warning and the certificate
 * in use stays; the next change is tried again.
 */
final class CertificateReloader extends AbstractLifeCycle {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateReloader.class);
    private static final Logger EVENTS = LoggerFactory.getLogger("mirrorball.event");

    /** What one {@link #check()} did. */
    enum Outcome { UNCHANGED, RELOADED, REFUSED }

    private final SslContextFactory.Server factory;
    private final MirrorballConfig.Tls files;
    private final Scheduler scheduler;
    private final Duration interval;
    private Contents seen;
    private PemCredentials current;
    private volatile Scheduler.Task next;

    /** The files' bytes as last read. */
    private record Contents(byte[] certificate, byte[] key) {
        boolean same(Contents other) {
            return other != null && Arrays.equals(certificate, other.certificate) && Arrays.equals(key, other.key);
        }
    }

    private CertificateReloader(SslContextFactory.Server factory, MirrorballConfig.Tls files, Scheduler scheduler,
                                Duration interval, Contents seen, PemCredentials current) {
        this.factory = factory;
        this.files = files;
        this.scheduler = scheduler;
        this.interval = interval;
        this.seen = seen;
        this.current = current;
    }

    /**
     * Reads the files and puts their key store into {@code factory}, which is not started yet.
     *
     * @throws PemCredentials.InvalidPemException when a file cannot be read or does not parse
     */
    static CertificateReloader load(SslContextFactory.Server factory, MirrorballConfig.Tls files,
                                    Scheduler scheduler, Duration interval) throws PemCredentials.InvalidPemException {
        Contents contents = read(files);
        PemCredentials credentials = PemCredentials.parse(contents.certificate(), contents.key());
        factory.setKeyStore(credentials.keyStore());
        factory.setKeyStorePassword(PemCredentials.KEY_STORE_PASSWORD);
        factory.setKeyManagerPassword(PemCredentials.KEY_STORE_PASSWORD);
        return new CertificateReloader(factory, files, scheduler, interval, contents, credentials);
    }

    /** The certificate being served. */
    synchronized PemCredentials current() {
        return current;
    }

    /** Reads the files once and reloads when they changed; the schedule calls this every interval. */
    synchronized Outcome check() {
        Contents contents;
        try {
            contents = read(files);
        } catch (PemCredentials.InvalidPemException e) {
            // between a delete and a create, or a permission change: keep serving, say so once
            Contents unreadable = new Contents(new byte[0], new byte[0]);
            if (!unreadable.same(seen)) {
                seen = unreadable;
                LOG.warn("{}: {}; still serving the certificate with {}", e.key(), e.getMessage(), current.describe());
            }
            return Outcome.REFUSED;
        }
        if (contents.same(seen)) {
            return Outcome.UNCHANGED;
        }
        seen = contents;
        PemCredentials credentials;
        try {
            credentials = PemCredentials.parse(contents.certificate(), contents.key());
        } catch (PemCredentials.InvalidPemException e) {
            LOG.warn("{} changed but cannot be used: {}; still serving the certificate with {}", e.key(),
                    e.getMessage(), current.describe());
            return Outcome.REFUSED;
        }
        try {
            factory.reload(f -> f.setKeyStore(credentials.keyStore()));
        } catch (Exception e) {
            LOG.warn("http.tls: reloading the certificate with {} failed: {}; still serving the one with {}",
                    credentials.describe(), e.toString(), current.describe());
            return Outcome.REFUSED;
        }
        current = credentials;
        EVENTS.info("tls-reload {}", credentials.describe());
        return Outcome.RELOADED;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        schedule();
    }

    @Override
    protected void doStop() throws Exception {
        Scheduler.Task task = next;
        if (task != null) {
            task.cancel();
        }
        super.doStop();
    }

    private void schedule() {
        if (isRunning() || isStarting()) {
            next = scheduler.schedule(this::poll, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void poll() {
        try {
            check();
        } catch (RuntimeException e) {
            LOG.warn("checking the TLS certificate files", e);
        } finally {
            schedule();
        }
    }

    private static Contents read(MirrorballConfig.Tls files) throws PemCredentials.InvalidPemException {
        return new Contents(read("http.tls.certificate", files.certificate()), read("http.tls.key", files.key()));
    }

    private static byte[] read(String key, Path file) throws PemCredentials.InvalidPemException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(PemCredentials.MAX_FILE_BYTES + 1);
            if (bytes.length > PemCredentials.MAX_FILE_BYTES) {
                throw new PemCredentials.InvalidPemException(key, file + " is larger than "
                        + PemCredentials.MAX_FILE_BYTES + " bytes: not a PEM certificate or key", null);
            }
            return bytes;
        } catch (IOException e) {
            throw new PemCredentials.InvalidPemException(key, "cannot read " + file + ": " + e, e);
        }
    }
}
