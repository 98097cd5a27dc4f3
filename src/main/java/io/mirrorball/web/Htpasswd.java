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

    /** Highest cost a decoy is made with (2^16 rounds, about 5 s); users above it are reported as problems. */
    static final int MAX_DECOY_COST = 16;

    private final Map<String, String> hashes;
    private final List<String> problems;
    /** The highest cost among the users (capped at {@link #MAX_DECOY_COST}): what every failed login costs. */
    private final int maxCost;
    /** Hashes of random passwords, by cost, from the lowest user cost up to {@code maxCost}. */
    private final Map<Integer, String> decoys;

    private Htpasswd(Map<String, String> hashes, List<String> problems) {
        this.hashes = Collections.unmodifiableMap(hashes);
        int min = hashes.values().stream().mapToInt(Htpasswd::cost).min().orElse(BCrypt.MIN_COST);
        int max = hashes.values().stream().mapToInt(Htpasswd::cost).max().orElse(BCrypt.MIN_COST);
        if (max > MAX_DECOY_COST) {
            problems.add("a bcrypt cost above " + MAX_DECOY_COST + " makes failed logins of users with a lower cost "
                    + "faster than theirs, which tells which users exist");
        }
        this.problems = List.copyOf(problems);
        this.maxCost = Math.max(BCrypt.MIN_COST, Math.min(max, MAX_DECOY_COST));
        SecureRandom random = new SecureRandom();
        Map<Integer, String> made = new LinkedHashMap<>();
        for (int cost = Math.max(BCrypt.MIN_COST, Math.min(min, maxCost)); cost <= maxCost; cost++) {
            byte[] password = new byte[16];
            random.nextBytes(password);
            made.put(cost, BCrypt.withDefaults().hashToString(cost, toChars(password)));
        }
        this.decoys = Map.copyOf(made);
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
        return check(user, password).verified();
    }

    /**
     * The outcome of a login, and the bcrypt work it took (the sum of 2^cost over the hashes computed).
     *
     * <p>Every failed login does the same work, 2^maxCost, so that its time tells nothing about
     * which users exist or what their cost is: an unknown user is checked against a decoy of the
     * highest cost; a known user of a lower cost c whose password is wrong then also computes decoys of
     * the costs c, c+1 ... maxCost-1 (2^c + 2^c + 2^(c+1) + ... + 2^(maxCost-1) = 2^maxCost).
     */
    Check check(String user, String password) {
        String hash = hashes.get(user);
        byte[] secret = password.getBytes(StandardCharsets.UTF_8);
        if (hash == null) {
            return new Check(false, run(decoys.get(maxCost), secret));
        }
        int cost = cost(hash);
        long work = 1L << cost;
        if (bcrypt(hash, secret)) {
            return new Check(true, work);
        }
        for (int c = Math.max(cost, BCrypt.MIN_COST); c < maxCost; c++) {
            work += run(decoys.get(c), secret);
        }
        return new Check(false, work);
    }

    /** @param work the bcrypt rounds computed, 2^cost summed over every hash checked */
    record Check(boolean verified, long work) {
    }

    private static long run(String hash, byte[] secret) {
        bcrypt(hash, secret);
        return 1L << cost(hash);
    }

    private static boolean bcrypt(String hash, byte[] secret) {
        try {
            return VERIFYER.verify(secret, hash.getBytes(StandardCharsets.US_ASCII)).verified;
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
