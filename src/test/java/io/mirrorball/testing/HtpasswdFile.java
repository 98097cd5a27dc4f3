package io.mirrorball.testing;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

/**
 * Htpasswd files for tests, as {@code htpasswd -B} writes them ({@code user:$2y$...}, one a line), read
 * by mirrorball's {@code auth.htpasswd.path} and by docker-registry; and the Basic credentials that match.
 * The bcrypt cost is the lowest (4), so that tests stay fast.
 *
 * <pre>
 * Path users = HtpasswdFile.write(tmp.resolve("htpasswd"), "alice", "secret");
 * gateway = TestGateway.start(tmp, Map.of("MIRRORBALL_AUTH_HTPASSWD_PATH", users.toString()));
 * client.send("GET", "/v2/", ..., "Authorization", HtpasswdFile.basic("alice", "secret"));
 * </pre>
 */
public final class HtpasswdFile {
    private HtpasswdFile() {
    }

    /** Writes {@code file} with this one user; returns the file. */
    public static Path write(Path file, String user, String password) throws IOException {
        return write(file, Map.of(user, password));
    }

    /** Writes {@code file} with a line for each user (user name to password); returns the file. */
    public static Path write(Path file, Map<String, String> passwords) throws IOException {
        StringBuilder lines = new StringBuilder();
        passwords.forEach((user, password) -> lines.append(user).append(':')
                .append(BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(BCrypt.MIN_COST, password.toCharArray()))
                .append('\n'));
        return Files.writeString(file, lines);
    }

    /** The {@code Authorization} header value for these credentials: {@code Basic base64(user:password)}. */
    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
