package io.mirrorball.cli;

import io.mirrorball.config.ConfigLoader;
import io.mirrorball.config.MirrorballConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The {@code -c/--config FILE} option, shared by every command that opens the gateway's store
 * ({@code serve}, and {@code migrate --store}, {@code export --store}, {@code import}, {@code cache}), so that all
 * of them resolve the configuration the same way: the file, else {@code $MIRRORBALL_CONFIG}, else
 * {@code conf/mirrorball.yml} when the working directory has one, else the built-in defaults; the
 * {@code MIRRORBALL_*} environment overrides always apply.
 */
final class ConfigOption {
    static final Path DEFAULT_CONFIG = Path.of("conf", "mirrorball.yml");

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file. Default: conf/mirrorball.yml if it exists, else built-in defaults.")
    Path config;

    /** The configuration in effect; throws ConfigException when it is invalid. */
    MirrorballConfig load(Map<String, String> env) {
        String named = env.get(ConfigLoader.CONFIG_FILE_ENV);
        Optional<Path> file = config != null ? Optional.of(config)
                : named != null && !named.isEmpty() ? Optional.of(Path.of(named))
                : Files.isRegularFile(DEFAULT_CONFIG) ? Optional.of(DEFAULT_CONFIG) : Optional.empty();
        return ConfigLoader.load(file, env);
    }
}
