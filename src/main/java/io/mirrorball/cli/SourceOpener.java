package io.mirrorball.cli;

import io.mirrorball.credentials.CredentialResolver;
import io.mirrorball.credentials.Credentials;
import io.mirrorball.migrate.Migration;
import io.mirrorball.migrate.source.DockerArchiveSource;
import io.mirrorball.migrate.source.OciLayoutSource;
import io.mirrorball.migrate.source.RegistrySource;
import io.mirrorball.migrate.source.SourceRef;
import io.mirrorball.migrate.source.SourceRefParser;
import io.mirrorball.migrate.source.TagFilter;
import io.mirrorball.upstream.SourceClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Turns {@code migrate}'s SOURCE arguments into open sources: parses each ({@link SourceRefParser}),
 * applies the tag and repository filters, and opens a registry (with the source credentials), an OCI
 * layout or a {@code docker save} archive. Invalid text, regexes or ranges are
 * IllegalArgumentExceptions, which the command reports as usage errors (exit 2).
 */
final class SourceOpener {
    /** How long a credential helper may take. */
    private static final Duration HELPER_TIMEOUT = Duration.ofSeconds(30);

    private final Predicate<String> tags;
    private final Predicate<String> repositories;
    private final CredentialResolver credentials;
    private final boolean plainHttp;
    private final int pageSize;

    private SourceOpener(Predicate<String> tags, Predicate<String> repositories, CredentialResolver credentials,
                         boolean plainHttp, int pageSize) {
        this.tags = tags;
        this.repositories = repositories;
        this.credentials = credentials;
        this.plainHttp = plainHttp;
        this.pageSize = pageSize;
    }

    static SourceOpener create(MigrateCommand command, Map<String, String> env) throws IOException {
        TagFilter tags = TagFilter.of(command.include, command.exclude, command.semver);
        Predicate<String> repositories = TagFilter.names(command.repos, command.skipRepos);
        Optional<Credentials> explicit = explicitCredentials(command);
        Path home = Path.of(env.getOrDefault("HOME", System.getProperty("user.home")));
        CredentialResolver resolver = CredentialResolver.of(explicit, Optional.ofNullable(command.authFile), env, home,
                HELPER_TIMEOUT);
        return new SourceOpener(tags, repositories, resolver, command.srcPlainHttp, command.testPageSize);
    }

    private static Optional<Credentials> explicitCredentials(MigrateCommand command) throws IOException {
        if (command.srcCreds == null) {
            if (command.srcPasswordStdin) {
                throw new IllegalArgumentException("--src-password-stdin needs --src-creds USER");
            }
            return Optional.empty();
        }
        int colon = command.srcCreds.indexOf(':');
        String user = colon < 0 ? command.srcCreds : command.srcCreds.substring(0, colon);
        String password;
        if (command.srcPasswordStdin) {
            if (colon >= 0) {
                throw new IllegalArgumentException("give the password either in --src-creds or on stdin, not both");
            }
            BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line = stdin.readLine();
            password = line == null ? "" : line;
        } else if (colon < 0) {
            throw new IllegalArgumentException("--src-creds needs USER:PASSWORD (or USER with --src-password-stdin)");
        } else {
            password = command.srcCreds.substring(colon + 1);
        }
        if (user.isEmpty()) {
            throw new IllegalArgumentException("--src-creds has no user name");
        }
        return Optional.of(new Credentials.Basic(user, password));
    }

    /** The SOURCEs of a {@code --from-file}. */
    static List<String> readList(Path file) throws IOException {
        return SourceRefParser.readSourceFile(file);
    }

    Migration.Entry open(String text) throws IOException {
        SourceRef ref = SourceRefParser.parse(text, repositories, tags);
        if (ref instanceof SourceRef.OciLayout layout) {
            return new Migration.Entry(text, "oci:" + layout.directory(), OciLayoutSource.open(layout));
        }
        if (ref instanceof SourceRef.DockerArchive archive) {
            return new Migration.Entry(text, "docker-archive:" + archive.file(), DockerArchiveSource.open(archive));
        }
        RegistrySource source = RegistrySource.open(ref, credentials, SourceClient.Settings.defaults(), plainHttp,
                pageSize);
        return new Migration.Entry(text, source.client().registry(), source);
    }
}
