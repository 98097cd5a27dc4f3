package io.mirrorball.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Asks a Docker credential helper ({@code docker-credential-<name> get}) for a registry's credentials.
 * The program is looked up on the {@code PATH} given (not the process's), run without a shell, told
 * the server URL on stdin, and read through a 64 KiB cap within a timeout. Errors name the helper,
 * never what it printed.
 */
public final class CredentialHelper {
    /** Docker's helpers answer with a few hundred bytes. */
    static final int MAX_OUTPUT = 64 * 1024;
    /** How long a helper may take; a keychain prompt may need a while. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final String NOT_FOUND = "credentials not found";
    private static final String TOKEN_USER = "<token>";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String path;
    private final Duration timeout;

    private CredentialHelper(String name, String path, Duration timeout) {
        this.name = name;
        this.path = path;
        this.timeout = timeout;
    }

    /**
     * @param name    the helper's name: {@code desktop} runs {@code docker-credential-desktop}
     * @param path    the {@code PATH} to search, entries separated by {@link File#pathSeparator}
     * @param timeout how long one run may take before it is killed
     */
    public static CredentialHelper of(String name, String path, Duration timeout) {
        if (name == null || !AuthFiles.HELPER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a credential helper name (letters a-z, digits, '.', '_', '-')");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        return new CredentialHelper(name, path == null ? "" : path, timeout);
    }

    /** The program's name, {@code docker-credential-<name>}. */
    public String program() {
        return "docker-credential-" + name;
    }

    /**
     * The helper's credentials for a registry host, or empty when it has none ("credentials not found").
     *
     * @throws CredentialsException ({@code HELPER_FAILED}) when the helper is not installed, fails,
     *                              hangs past the timeout or answers with something else than its JSON
     */
    public Optional<Credentials> get(String registry) {
        Path executable = find().orElseThrow(() -> failed("is not installed"));
        ProcessBuilder builder = new ProcessBuilder(List.of(executable.toString(), "get"))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PATH", path);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw failed("could not be started (" + e.getClass().getSimpleName() + ")");
        }
        try {
            AtomicReference<byte[]> output = new AtomicReference<>();
            Thread reader = new Thread(() -> output.set(readCapped(process.getInputStream())),
                    "credential-helper-" + name);
            reader.setDaemon(true);
            reader.start();
            try (OutputStream stdin = process.getOutputStream()) {
                stdin.write(RegistryKeys.helperServerUrl(registry).getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the helper closed stdin without reading it; its exit status and output tell the rest
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw failed("did not answer within " + timeout.toSeconds() + " s");
            }
            reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            byte[] bytes = output.get();
            if (reader.isAlive() || bytes == null) {
                throw failed("did not answer within " + timeout.toSeconds() + " s");
            }
            if (bytes.length > MAX_OUTPUT) {
                throw failed("answered with more than " + (MAX_OUTPUT >> 10) + " KiB");
            }
            String text = new String(bytes, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                if (text.toLowerCase(java.util.Locale.ROOT).contains(NOT_FOUND)) {
                    return Optional.empty();
                }
                throw failed("failed with exit status " + process.exitValue());
            }
            return answer(text);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed("was interrupted");
        } finally {
            kill(process);
        }
    }

    private Optional<Credentials> answer(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw failed("answered with something other than its JSON");
        }
        if (root == null || !root.isObject() || !textOrAbsent(root, "Username") || !textOrAbsent(root, "Secret")) {
            throw failed("answered with something other than its JSON");
        }
        String user = root.path("Username").asText("");
        String secret = root.path("Secret").asText("");
        if (secret.isEmpty()) {
            return Optional.empty();
        }
        if (user.equals(TOKEN_USER)) {
            return Optional.of(new Credentials.IdentityToken(secret));
        }
        return Optional.of(new Credentials.Basic(user, secret));
    }

    private static boolean textOrAbsent(JsonNode root, String field) {
        JsonNode node = root.get(field);
        return node == null || node.isNull() || node.isTextual();
    }

    /** Reads at most one byte past the cap, so an oversized answer is seen without holding it. */
    private static byte[] readCapped(InputStream in) {
        try (in) {
            byte[] bytes = in.readNBytes(MAX_OUTPUT + 1);
            if (bytes.length > MAX_OUTPUT) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            return bytes;
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /** Ends the helper and whatever it started (a shell script's {@code sleep} holds stdout open). */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private Optional<Path> find() {
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir).resolve(program());
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toAbsolutePath());
            }
        }
        return Optional.empty();
    }

    private CredentialsException failed(String problem) {
        return new CredentialsException(CredentialsException.Kind.HELPER_FAILED,
                "credential helper " + program() + " " + problem);
    }

    @Override
    public String toString() {
        return "CredentialHelper[" + program() + "]";
    }
}
