package io.mirrorball.migrate.source;

import io.mirrorball.oci.Digest;
import io.mirrorball.oci.Reference;
import io.mirrorball.oci.RegistryHost;
import io.mirrorball.oci.RepositoryName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Parses the SOURCE arguments of {@code migrate}. Invalid text is an {@link IllegalArgumentException}
 * whose message quotes it (the CLI turns it into exit code 2).
 *
 * <ul>
 *   <li>{@code oci:DIR[:TAG]}: an OCI image layout; the text after the last {@code :} is the tag when it
 *       is a valid tag (so a directory whose name ends in {@code :word} needs a trailing {@code /}).</li>
 *   <li>{@code docker-archive:FILE}: a {@code docker save} tar.</li>
 *   <li>{@code [docker://]NAME}: a registry, by Docker's rules: the first component of NAME is a host
 *       only if it holds a {@code .} or {@code :} or is {@code localhost}, else the name is on Docker
 *       Hub, where a one-component name gets {@code library/}; Hub's aliases fold to
 *       {@code docker.io}. {@code NAME:TAG} and {@code NAME@DIGEST} are one image (both together are
 *       refused, as skopeo does).</li>
 *   <li>Without a tag or digest, {@code docker://HOST/REPO} is every tag of the repository (those the
 *       tag filter takes), while a name without {@code docker://} is {@code :latest}, as {@code docker pull}.</li>
 *   <li>{@code docker://HOST[:PORT]} (HOST with a {@code .}, or {@code localhost}) and any
 *       {@code docker://HOST[:PORT]/} (trailing slash) are every repository of the registry's catalog
 *       that the repository filter takes. {@code docker://registry:5000} without the slash is the Hub
 *       image {@code library/registry:5000}, by Docker's rule.</li>
 * </ul>
 */
public final class SourceRefParser {
    private static final String DOCKER = "docker://";
    private static final String OCI = "oci:";
    private static final String DOCKER_ARCHIVE = "docker-archive:";
    private static final Pattern OTHER_TRANSPORT = Pattern.compile(
            "(?:[a-z][a-z0-9+.-]*://|(?:oci-archive|dir|containers-storage|docker-daemon):).*");

    private SourceRefParser() {
    }

    /**
     * Parses one SOURCE.
     *
     * @param repoFilter which catalog repositories to take ({@code docker://HOST}); null takes all
     * @param tagFilter  which tags to take when a repository is copied whole; null takes all
     */
    public static SourceRef parse(String text, Predicate<String> repoFilter, Predicate<String> tagFilter) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty SOURCE");
        }
        Predicate<String> repos = repoFilter == null ? name -> true : repoFilter;
        Predicate<String> tags = tagFilter == null ? tag -> true : tagFilter;
        if (text.startsWith(OCI)) {
            return ociLayout(text);
        }
        if (text.startsWith(DOCKER_ARCHIVE)) {
            String file = text.substring(DOCKER_ARCHIVE.length());
            if (file.isEmpty()) {
                throw invalid(text, "a file is required after docker-archive:");
            }
            return new SourceRef.DockerArchive(text, Path.of(file));
        }
        boolean scheme = text.startsWith(DOCKER);
        if (!scheme && OTHER_TRANSPORT.matcher(text).matches()) {
            throw invalid(text, "unsupported transport; use docker://, oci: or docker-archive:");
        }
        String name = scheme ? text.substring(DOCKER.length()) : text;
        if (scheme && name.indexOf('/') == name.length() - 1 && name.length() > 1) {
            return new SourceRef.RegistryCatalog(text, host(text, name.substring(0, name.length() - 1)).name(),
                    repos, tags);
        }
        if (scheme && isRegistryOnly(name)) {
            return new SourceRef.RegistryCatalog(text, host(text, name).name(), repos, tags);
        }
        Name parsed = parseName(text, name);
        if (parsed.reference().isEmpty()) {
            if (scheme) {
                return new SourceRef.RegistryRepository(text, parsed.host().name(), parsed.repository(), tags);
            }
            return new SourceRef.RegistryImage(text, parsed.image(Reference.ofTag("latest")));
        }
        return new SourceRef.RegistryImage(text, parsed.image(parsed.reference().get()));
    }

    /** Parses {@code [docker://]NAME[:TAG|@DIGEST]} as one image, {@code :latest} when neither is given. */
    public static ImageName parseImageName(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty image name");
        }
        String name = text.startsWith(DOCKER) ? text.substring(DOCKER.length()) : text;
        Name parsed = parseName(text, name);
        return parsed.image(parsed.reference().orElse(Reference.ofTag("latest")));
    }

    /**
     * The SOURCE lines of a {@code --from-file}: one a line, surrounding blanks trimmed, blank lines
     * and comments ({@code #} at the start of a line or after a blank) dropped.
     */
    public static List<String> readSourceFile(Path file) throws IOException {
        List<String> sources = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String source = stripComment(line).strip();
            if (!source.isEmpty()) {
                sources.add(source);
            }
        }
        return sources;
    }

    /** {@link #readSourceFile} then {@link #parse} of each line; a bad line's message names the file and line. */
    public static List<SourceRef> parseSourceFile(Path file, Predicate<String> repoFilter,
                                                  Predicate<String> tagFilter) throws IOException {
        List<SourceRef> refs = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String source = stripComment(lines.get(i)).strip();
            if (source.isEmpty()) {
                continue;
            }
            try {
                refs.add(parse(source, repoFilter, tagFilter));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file.getFileName() + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return refs;
    }

    private static String stripComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    private static SourceRef ociLayout(String text) {
        String rest = text.substring(OCI.length());
        Optional<String> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon >= 0 && Reference.isTag(rest.substring(colon + 1))) {
            tag = Optional.of(rest.substring(colon + 1));
            rest = rest.substring(0, colon);
        } else if (colon == rest.length() - 1 && colon >= 0) {
            rest = rest.substring(0, colon);
        }
        if (rest.isEmpty()) {
            throw invalid(text, "a directory is required after oci:");
        }
        return new SourceRef.OciLayout(text, Path.of(rest), tag);
    }

    /**
     * One component (no {@code /}) that names a registry by Docker's rule: the part before any
     * {@code :} holds a {@code .} or is {@code localhost} ({@code registry:5000} is the Hub image
     * {@code library/registry:5000}, as for docker; {@code docker://registry:5000/} is the registry).
     */
    private static boolean isRegistryOnly(String name) {
        if (name.isEmpty() || name.indexOf('/') >= 0 || name.indexOf('@') >= 0) {
            return false;
        }
        if (name.startsWith("[")) {
            return true;
        }
        int colon = name.indexOf(':');
        String host = colon < 0 ? name : name.substring(0, colon);
        return host.indexOf('.') >= 0 || host.equals("localhost");
    }

    private static RegistryHost host(String text, String host) {
        try {
            return RegistryHost.parse(host);
        } catch (IllegalArgumentException e) {
            throw invalid(text, "invalid registry host " + host);
        }
    }

    private static Name parseName(String text, String name) {
        if (name.isEmpty()) {
            throw invalid(text, "an image name is required");
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isWhitespace(name.charAt(i)) || Character.isISOControl(name.charAt(i))) {
                throw invalid(text, "blanks are not allowed in an image name");
            }
        }
        Digest digest = null;
        int at = name.indexOf('@');
        if (at >= 0) {
            String digestText = name.substring(at + 1);
            if (!Digest.isDigest(digestText)) {
                throw invalid(text, "invalid digest " + digestText);
            }
            digest = Digest.parse(digestText);
            name = name.substring(0, at);
        }
        RegistryHost host = RegistryHost.dockerHubHost();
        int slash = name.indexOf('/');
        if (slash > 0 && RegistryHost.looksLikeHost(name.substring(0, slash))) {
            host = host(text, name.substring(0, slash));
            name = name.substring(slash + 1);
        }
        String tag = null;
        int colon = name.indexOf(':', name.lastIndexOf('/') + 1);
        if (colon >= 0) {
            tag = name.substring(colon + 1);
            name = name.substring(0, colon);
            if (!Reference.isTag(tag)) {
                throw invalid(text, "invalid tag " + tag);
            }
        }
        if (tag != null && digest != null) {
            throw invalid(text, "give a tag or a digest, not both");
        }
        String repository = host.dockerHub() && name.indexOf('/') < 0 ? "library/" + name : name;
        if (!RepositoryName.isValid(repository)) {
            throw invalid(text, "invalid repository name " + name
                    + " (lower-case letters, digits and separators . _ - /)");
        }
        Reference reference = digest != null ? Reference.ofDigest(digest) : tag != null ? Reference.ofTag(tag) : null;
        return new Name(host, repository, Optional.ofNullable(reference));
    }

    private static IllegalArgumentException invalid(String text, String why) {
        return new IllegalArgumentException("invalid SOURCE \"" + text + "\": " + why);
    }

    private record Name(RegistryHost host, String repository, Optional<Reference> reference) {
        ImageName image(Reference ref) {
            return new ImageName(host.name(), repository, ref);
        }
    }
}
