package io.mirrorball.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The users of an htpasswd file ({@code user:hash} lines, as written by {@code htpasswd -B}). Only
 * bcrypt hashes ({@code $2y$}, {@code $2a$}, {@code $2b$}) are supported; a line with any other
 * hash (MD5 {@code $apr1$}, {@code {SHA}}, crypt) is reported in {@link #problems()} and its user
 * can never log in. Immutable.
 */
final class Htpasswd {
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$([0-9]{2})\\$[./A-Za-z0-9]{53}");
    private static final BCrypt.Verifyer VERIFYER =
            BCrypt.verifyer(BCrypt.Version.VERSION_2A, LongPasswordStrategies.truncate(BCrypt.Version.VERSION_2A));

    private final Map<String, String> hashes;
    private final List<String> problems;
    /** A hash of a random password, verified for unknown users so they take as long as known ones. */
    private final String decoy;

    private Htpasswd(Map<String, String> hashes, List<String> problems) {
        this.hashes = Collections.unmodifiableMap(hashes);
        this.problems = List.copyOf(problems);
        int cost = hashes.values().stream().findFirst().map(Htpasswd::cost).orElse(BCrypt.MIN_COST);
        cost = Math.max(BCrypt.MIN_COST, Math.min(cost, 14));
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        this.decoy = BCrypt.withDefaults().hashToString(cost, toChars(random));
    }

    /** Reads the file (UTF-8). Blank lines and lines starting with '#' are ignored. */
    static Htpasswd read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
    }

    static Htpasswd parse(List<String> lines, String source) {
        Map<String, String> hashes = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + " line " + (i + 1);
            int colon = line.indexOf(':');
            if (colon <= 0) {
                problems.add(where + ": not user:hash");
                continue;
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1);
            if (!BCRYPT.matcher(hash).matches()) {
                problems.add(where + ": user " + user + " has an unsupported hash (only bcrypt $2y$/$2a$/$2b$, "
                        + "create it with htpasswd -B)");
                continue;
            }
            if (hashes.putIfAbsent(user, hash) != null) {
                problems.add(where + ": duplicate user " + user + " ignored (the first line wins)");
            }
        }
        return new Htpasswd(hashes, problems);
    }

    /** True when the user exists and the password matches its bcrypt hash. Slow (that is bcrypt's job). */
    boolean verify(String user, String password) {
        String hash = hashes.get(user);
        byte[] secret = password.getBytes(StandardCharsets.UTF_8);
        try {
            boolean verified = VERIFYER.verify(secret, (hash == null ? decoy : hash).getBytes(StandardCharsets.US_ASCII))
                    .verified;
            return hash != null && verified;
        } catch (IllegalArgumentException e) { // a malformed hash that slipped through, or an odd password
            return false;
        }
    }

    int size() {
        return hashes.size();
    }

    /** Lines that were skipped, each naming its file and line. */
    List<String> problems() {
        return problems;
    }

    private static int cost(String hash) {
        return Integer.parseInt(hash.substring(4, 6));
    }

    private static char[] toChars(byte[] bytes) {
        char[] chars = new char[bytes.length * 2];
        String hex = "0123456789abcdef";
        for (int i = 0; i < bytes.length; i++) {
            chars[2 * i] = hex.charAt((bytes[i] >> 4) & 0xf);
            chars[2 * i + 1] = hex.charAt(bytes[i] & 0xf);
        }
        return chars;
    }
}
