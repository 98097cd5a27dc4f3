package io.mirrorball.web;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks Basic logins against an htpasswd file. Verified credentials are cached for a minute (bcrypt
 * is slow on purpose; a push of many chunks must not pay it per request), keyed by a salted SHA-256 of
 * {@code user:password} and the file's generation. The file is read again whenever its modification
 * time, size or identity changes; the cache is then dropped, so a removed user or changed password
 * takes effect on the next request.
 */
final class HtpasswdLogins {
    private static final Logger LOG = LoggerFactory.getLogger(HtpasswdLogins.class);
    private static final Duration CACHE_EXPIRY = Duration.ofMinutes(1);
    private static final long CACHE_SIZE = 10_000;

    private final Path file;
    private final AtomicLong bcryptVerifications = new AtomicLong();
    private final byte[] salt = new byte[32];
    private final Cache<String, String> verified;
    /** The users as of the last read of {@link #file}; replaced whole on reload. */
    private volatile Loaded loaded;

    private record FileState(Object key, long modified, long size) {
        static FileState of(Path file) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileState(attributes.fileKey(), attributes.lastModifiedTime().toMillis(), attributes.size());
        }
    }

    private record Loaded(Htpasswd users, FileState state, long generation) {
    }

    private HtpasswdLogins(Path file, Ticker ticker) throws IOException {
        this.file = file;
        new SecureRandom().nextBytes(salt);
        this.verified = Caffeine.newBuilder()
                .maximumSize(CACHE_SIZE)
                .expireAfterWrite(CACHE_EXPIRY)
                .ticker(ticker)
                .build();
        this.loaded = load(0);
    }

    /** Reads the file; fails when it cannot be read. */
    static HtpasswdLogins open(Path file, Ticker ticker) throws IOException {
        return new HtpasswdLogins(file, ticker);
    }

    int users() {
        return loaded.users().size();
    }

    /** How many bcrypt verifications ran (the cache is working when this stays low). */
    long bcryptVerifications() {
        return bcryptVerifications.get();
    }

    /** Whether the password is the user's; an unreadable file is UNAVAILABLE. */
    boolean verify(String user, String password) {
        Loaded current = current();
        String key = cacheKey(current.generation(), user, password);
        if (verified.getIfPresent(key) != null) {
            return true;
        }
        bcryptVerifications.incrementAndGet();
        if (!current.users().verify(user, password)) {
            return false;
        }
        verified.put(key, user);
        return true;
    }

    /** The users, read again when the file changed since the last look. */
    private Loaded current() {
        Loaded last = loaded;
        FileState now;
        try {
            now = FileState.of(file);
        } catch (IOException e) {
            LOG.warn("auth: htpasswd file {} is unreadable, refusing logins: {}", file, e.toString());
            throw new OciException(OciErrorCode.UNAVAILABLE, "the htpasswd file cannot be read", e);
        }
        if (now.equals(last.state())) {
            return last;
        }
        synchronized (this) {
            if (!now.equals(loaded.state())) {
                try {
                    loaded = load(loaded.generation() + 1);
                } catch (IOException e) {
                    LOG.warn("auth: cannot reload htpasswd file {}, refusing logins: {}", file, e.toString());
                    throw new OciException(OciErrorCode.UNAVAILABLE, "the htpasswd file cannot be read", e);
                }
                verified.invalidateAll();
                LOG.info("auth: reloaded {} ({} users)", file, loaded.users().size());
            }
            return loaded;
        }
    }

    private Loaded load(long generation) throws IOException {
        // the state is taken before the read: a change during the read is seen by the next request
        FileState state = FileState.of(file);
        Htpasswd users = Htpasswd.read(file);
        users.problems().forEach(problem -> LOG.warn("auth: {}", LogText.escape(problem)));
        return new Loaded(users, state, generation);
    }

    private String cacheKey(long generation, String user, String password) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(salt);
            sha256.update((generation + "\n" + user + ":" + password).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
