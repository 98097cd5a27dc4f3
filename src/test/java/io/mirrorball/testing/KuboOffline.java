package io.mirrorball.testing;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.DirectoryParams;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Kubo binary run offline (no daemon) on its own repository: {@code ipfs init --profile test},
 * the {@code Import} settings of a {@link DirectoryParams}, then {@code ipfs add} of files and
 * directories. Not {@code --only-hash}: Kubo v0.43.1 builds the directories of {@code --only-hash}
 * without the add's directory options, so it ignores {@code Import.UnixFSDirectoryMaxLinks} there. The binary is the system property {@code mirrorball.kubo}, or the
 * environment variable {@code MIRRORBALL_KUBO}; a test that needs it fails when neither is set.
 */
public final class KuboOffline {
    private static final long TIMEOUT_SECONDS = 120;

    private final Path binary;
    private final Path repo;

    private KuboOffline(Path binary, Path repo) {
        this.binary = binary;
        this.repo = repo;
    }

    /** The Kubo binary to test against. */
    public static Path binary() {
        String path = System.getProperty("mirrorball.kubo");
        if (path == null || path.isBlank()) {
            path = System.getenv("MIRRORBALL_KUBO");
        }
        if (path == null || path.isBlank()) {
            throw new IllegalStateException("set -Dmirrorball.kubo (or MIRRORBALL_KUBO) to a Kubo binary");
        }
        Path binary = Path.of(path);
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("Kubo binary " + binary + " is not executable");
        }
        return binary;
    }

    /** A fresh repository in {@code dir} that builds directories with these parameters. */
    public static KuboOffline init(Path dir, DirectoryParams params) throws IOException {
        KuboOffline kubo = new KuboOffline(binary(), dir.resolve("kubo-repo"));
        kubo.run("init", "--profile", "test");
        for (Map.Entry<String, String> setting : params.kuboConfig().entrySet()) {
            kubo.run("config", "--json", setting.getKey(), setting.getValue());
        }
        return kubo;
    }

    /** {@code ipfs add -r} of a file or directory with mirrorball's fixed import parameters (not pinned). */
    public Cid add(Path path) throws IOException {
        String out = run("add", "-r", "--cid-version=1", "--raw-leaves", "--chunker=size-262144",
                "--hash=sha2-256", "--pin=false", "-Q", path.toString());
        return Cid.parse(out.strip());
    }

    /** Runs {@code ipfs <args>} on this repository and returns its standard output. */
    public String run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        Path log = Files.createTempFile("kubo-offline", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
            builder.environment().put("IPFS_PATH", repo.toString());
            Process process = builder.start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("ipfs " + String.join(" ", args) + ": no exit after " + TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new IOException("ipfs " + String.join(" ", args) + " exited with " + process.exitValue() + ": "
                        + Files.readString(log));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running ipfs " + args[0], e);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
