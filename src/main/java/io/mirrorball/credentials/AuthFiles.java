package io.mirrorball.credentials;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One parsed credentials file: podman/skopeo's {@code auth.json}, Docker's {@code config.json}, or the
 * legacy {@code ~/.dockercfg} (a flat map of entries). An entry holds {@code registrytoken},
 * {@code identitytoken} or {@code auth} (base64 {@code user:password}), in that order of preference;
 * an entry with none of them (Docker writes {@code {}} beside a {@code credsStore}) is no entry.
 * Errors name the file and key, never a value.
 */
public final class AuthFiles {
    /** The layouts of the files. */
    public enum Format {
        /** containers-auth.json: {@code auths} keys may be {@code host/namespace[/repo]}. */
        AUTH_JSON,
        /** Docker's config.json: {@code auths} keyed by host or server URL. */
        DOCKER_CONFIG,
        /** Docker's legacy {@code ~/.dockercfg}: the {@code auths} map alone, at the top level. */
        LEGACY_DOCKERCFG
    }

    /** A credentials file is a few KiB; anything this large is not one. */
    static final long MAX_FILE_BYTES = 4L << 20;
    static final Pattern HELPER_NAME = Pattern.compile("[a-z0-9._-]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Format format;
    private final Map<String, Credentials> auths;
    private final Map<String, String> credHelpers;
    private final String credsStore;

    private AuthFiles(Path file, Format format, Map<String, Credentials> auths, Map<String, String> credHelpers,
                      String credsStore) {
        this.file = file;
        this.format = format;
        this.auths = Map.copyOf(auths);
        this.credHelpers = Map.copyOf(credHelpers);
        this.credsStore = credsStore;
    }

    /** A file that does not exist has no entries. */
    public static AuthFiles empty(Path file, Format format) {
        return new AuthFiles(file, format, Map.of(), Map.of(), null);
    }

    /**
     * Reads one file; a missing file is {@link #empty}.
     *
     * @throws CredentialsException ({@code INVALID_FILE}) when the file is unreadable or malformed
     */
    public static AuthFiles read(Path file, Format format) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw invalid(file, "is larger than " + (MAX_FILE_BYTES >> 20) + " MiB");
            }
            return parse(file, format, bytes);
        } catch (NoSuchFileException e) {
            return empty(file, format);
        } catch (IOException e) {
            throw invalid(file, "cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Parses the bytes of {@code file}, which only names it in errors. */
    static AuthFiles parse(Path file, Format format, byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the text around the error, which may be a secret: only the place
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw invalid(file, "is not valid JSON" + where);
        } catch (IOException e) {
            throw invalid(file, "is not valid JSON");
        }
        if (root == null || root.isMissingNode()) {
            return empty(file, format);
        }
        if (!root.isObject()) {
            throw invalid(file, "is not a JSON object");
        }
        ObjectNode authsNode;
        Map<String, String> helpers = new LinkedHashMap<>();
        String store = null;
        if (format == Format.LEGACY_DOCKERCFG) {
            authsNode = (ObjectNode) root;
        } else {
            authsNode = object(file, root, "auths");
            ObjectNode helpersNode = object(file, root, "credHelpers");
            if (helpersNode != null) {
                for (Map.Entry<String, JsonNode> field : helpersNode.properties()) {
                    String key = RegistryKeys.fileKey(field.getKey(), false);
                    helpers.putIfAbsent(key, helperName(file, "credHelpers." + field.getKey(), field.getValue()));
                }
            }
            JsonNode storeNode = root.get("credsStore");
            if (storeNode != null && !storeNode.isNull() && !(storeNode.isTextual() && storeNode.asText().isEmpty())) {
                store = helperName(file, "credsStore", storeNode);
            }
        }
        Map<String, Credentials> entries = new LinkedHashMap<>();
        if (authsNode != null) {
            String prefix = format == Format.LEGACY_DOCKERCFG ? "" : "auths.";
            for (Map.Entry<String, JsonNode> field : authsNode.properties()) {
                String name = prefix + field.getKey();
                if (!field.getValue().isObject()) {
                    throw invalid(file, "key " + name + " is not an object");
                }
                Optional<Credentials> credentials = entry(file, name, field.getValue());
                if (credentials.isPresent()) {
                    entries.putIfAbsent(RegistryKeys.fileKey(field.getKey(), format == Format.AUTH_JSON),
                            credentials.get());
                }
            }
        }
        return new AuthFiles(file, format, entries, helpers, store);
    }

    private static ObjectNode object(Path file, JsonNode root, String key) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw invalid(file, "key " + key + " is not an object");
        }
        return (ObjectNode) node;
    }

    private static String helperName(Path file, String key, JsonNode value) {
        if (!value.isTextual() || !HELPER_NAME.matcher(value.asText()).matches()) {
            throw invalid(file, "key " + key + " is not a credential helper name (letters a-z, digits, '.', '_', '-')");
        }
        return value.asText();
    }

    private static Optional<Credentials> entry(Path file, String key, JsonNode entry) {
        String registryToken = text(file, key, entry, "registrytoken");
        if (!registryToken.isEmpty()) {
            return Optional.of(new Credentials.RegistryToken(registryToken));
        }
        String identityToken = text(file, key, entry, "identitytoken");
        if (!identityToken.isEmpty()) {
            return Optional.of(new Credentials.IdentityToken(identityToken));
        }
        String auth = text(file, key, entry, "auth");
        if (auth.isEmpty()) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getMimeDecoder().decode(strictBase64(auth)), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid(file, "key " + key + ": auth is not valid base64");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            throw invalid(file, "key " + key + ": auth is not base64 of user:password");
        }
        return Optional.of(new Credentials.Basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
    }

    /** The MIME decoder skips characters outside the alphabet; anything but base64 and whitespace is an error. */
    private static String strictBase64(String auth) {
        String compact = auth.replaceAll("\\s+", "");
        if (!compact.matches("[A-Za-z0-9+/]*={0,2}") || compact.length() % 4 == 1) {
            throw new IllegalArgumentException("not base64");
        }
        return compact;
    }

    private static String text(Path file, String key, JsonNode entry, String field) {
        JsonNode node = entry.get(field);
        if (node == null || node.isNull()) {
            return "";
        }
        if (!node.isTextual()) {
            throw invalid(file, "key " + key + ": " + field + " is not a string");
        }
        return node.asText();
    }

    private static CredentialsException invalid(Path file, String problem) {
        return new CredentialsException(CredentialsException.Kind.INVALID_FILE,
                "credentials file " + file + ": " + problem);
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** The helper named by {@code credHelpers} for this registry host. */
    public Optional<String> helperFor(String registry) {
        return Optional.ofNullable(credHelpers.get(RegistryKeys.host(registry)));
    }

    /** The default helper ({@code credsStore}) for registries without an entry. */
    public Optional<String> credsStore() {
        return Optional.ofNullable(credsStore);
    }

    /**
     * The {@code auths} entry for a repository: {@code host/namespace/repo}, then each shorter prefix down
     * to {@code host}, so the longest key wins. Only {@code auth.json} has keys longer than a host.
     */
    public Optional<Credentials> entryFor(String registry, String repository) {
        String host = RegistryKeys.host(registry);
        if (format == Format.AUTH_JSON && repository != null && !repository.isEmpty()) {
            String key = host + "/" + repository;
            while (key.length() > host.length()) {
                Credentials found = auths.get(key);
                if (found != null) {
                    return Optional.of(found);
                }
                key = key.substring(0, key.lastIndexOf('/'));
            }
        }
        return Optional.ofNullable(auths.get(host));
    }

    @Override
    public String toString() {
        return "AuthFiles[" + file + ", " + format + ", auths=" + auths.keySet() + ", credHelpers=" + credHelpers
                + ", credsStore=" + credsStore + "]";
    }
}
