package io.mirrorball.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing of auth.json, config.json and ~/.dockercfg. */
final class AuthFilesTest {
    @TempDir
    Path tmp;

    static String auth(String userPassword) {
        return Base64.getEncoder().encodeToString(userPassword.getBytes(StandardCharsets.UTF_8));
    }

    private AuthFiles read(String name, AuthFiles.Format format, String json) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, json);
        return AuthFiles.read(file, format);
    }

    @Test
    void read_basicFromBase64Auth() throws IOException {
        AuthFiles files = read("auth.json", AuthFiles.Format.AUTH_JSON,
                "{\"auths\":{\"registry.example.com\":{\"auth\":\"" + auth("alice:pa:ss") + "\"}}}");
        assertEquals(Optional.of(new Credentials.Basic("alice", "pa:ss")),
                files.entryFor("registry.example.com", "team/app"));
        assertEquals(Optional.empty(), files.entryFor("other.example.com", "team/app"));
    }

    @Test
    void read_identityAndRegistryTokens() throws IOException {
        AuthFiles files = read("config.json", AuthFiles.Format.DOCKER_CONFIG, """
                {"auths": {
                  "id.example.com": {"auth": "%s", "identitytoken": "refresh-1"},
                  "reg.example.com": {"registrytoken": "bearer-1"}
                }}""".formatted(auth("<token>:")));
        assertEquals(Optional.of(new Credentials.IdentityToken("refresh-1")), files.entryFor("id.example.com", "a"));
        assertEquals(Optional.of(new Credentials.RegistryToken("bearer-1")), files.entryFor("reg.example.com", "a"));
    }

    @Test
    void read_emptyEntryIsNoEntry() throws IOException {
        AuthFiles files = read("config.json", AuthFiles.Format.DOCKER_CONFIG,
                "{\"auths\":{\"registry.example.com\":{},\"b.example.com\":{\"auth\":\"\"}},\"credsStore\":\"desktop\"}");
        assertEquals(Optional.empty(), files.entryFor("registry.example.com", "a"));
        assertEquals(Optional.empty(), files.entryFor("b.example.com", "a"));
        assertEquals(Optional.of("desktop"), files.credsStore());
    }

    @Test
    void read_credHelpersKeysNormalised() throws IOException {
        AuthFiles files = read("config.json", AuthFiles.Format.DOCKER_CONFIG,
                "{\"credHelpers\":{\"https://index.docker.io/v1/\":\"pass\",\"Gcr.IO\":\"gcloud\"}}");
        assertEquals(Optional.of("pass"), files.helperFor("registry-1.docker.io"));
        assertEquals(Optional.of("pass"), files.helperFor("docker.io"));
        assertEquals(Optional.of("gcloud"), files.helperFor("gcr.io"));
        assertEquals(Optional.empty(), files.helperFor("quay.io"));
        assertEquals(Optional.empty(), files.credsStore());
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "docker.io",
        "http://docker.io"})
    void entryFor_hubAliasesFoldToDockerIo(String key) throws IOException {
        AuthFiles files = read("config.json", AuthFiles.Format.DOCKER_CONFIG,
                "{\"auths\":{\"" + key + "\":{\"auth\":\"" + auth("hub:pw") + "\"}}}");
        for (String registry : new String[] {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
            assertEquals(Optional.of(new Credentials.Basic("hub", "pw")), files.entryFor(registry, "library/alpine"),
                    registry);
        }
    }

    @Test
    void entryFor_longestPrefixWinsInAuthJson() throws IOException {
        AuthFiles files = read("auth.json", AuthFiles.Format.AUTH_JSON, """
                {"auths": {
                  "registry.example.com": {"auth": "%s"},
                  "registry.example.com/team": {"auth": "%s"},
                  "registry.example.com/team/app": {"auth": "%s"},
                  "docker.io/library": {"auth": "%s"}
                }}""".formatted(auth("host:1"), auth("team:2"), auth("app:3"), auth("lib:4")));
        assertEquals("app", user(files.entryFor("registry.example.com", "team/app")));
        assertEquals("team", user(files.entryFor("registry.example.com", "team/other")));
        assertEquals("team", user(files.entryFor("registry.example.com", "team/app2")));
        assertEquals("app", user(files.entryFor("registry.example.com", "team/app/sub")));
        assertEquals("host", user(files.entryFor("registry.example.com", "teams/app")));
        assertEquals("lib", user(files.entryFor("index.docker.io", "library/alpine")));
        assertEquals(Optional.empty(), files.entryFor("docker.io", "someone/app"));
    }

    @Test
    void entryFor_dockerConfigUsesHostOnly() throws IOException {
        AuthFiles files = read("config.json", AuthFiles.Format.DOCKER_CONFIG,
                "{\"auths\":{\"https://registry.example.com/v1/\":{\"auth\":\"" + auth("u:p") + "\"}}}");
        assertEquals(Optional.of(new Credentials.Basic("u", "p")), files.entryFor("registry.example.com", "x/y"));
    }

    @Test
    void read_legacyDockercfgIsFlatMap() throws IOException {
        AuthFiles files = read(".dockercfg", AuthFiles.Format.LEGACY_DOCKERCFG,
                "{\"https://index.docker.io/v1/\":{\"auth\":\"" + auth("old:pw") + "\",\"email\":\"a@b.c\"}}");
        assertEquals(Optional.of(new Credentials.Basic("old", "pw")), files.entryFor("docker.io", "library/alpine"));
    }

    @Test
    void read_missingFileIsEmpty() {
        AuthFiles files = AuthFiles.read(tmp.resolve("absent.json"), AuthFiles.Format.AUTH_JSON);
        assertEquals(Optional.empty(), files.entryFor("docker.io", "library/alpine"));
        assertEquals(Optional.empty(), files.credsStore());
    }

    @ParameterizedTest
    @ValueSource(strings = {"not!base64!secretvalue", "c2VjcmV0dmFsdWU=====", "Zqx9Zqx9Z"})
    void read_malformedBase64NamesFileAndKeyNotValue(String value) throws IOException {
        Path file = tmp.resolve("auth.json");
        Files.writeString(file, "{\"auths\":{\"registry.example.com\":{\"auth\":\"" + value + "\"}}}");
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> AuthFiles.read(file, AuthFiles.Format.AUTH_JSON));
        assertEquals(CredentialsException.Kind.INVALID_FILE, e.kind());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("auths.registry.example.com"), e.getMessage());
        assertFalse(e.getMessage().contains(value), e.getMessage());
    }

    @Test
    void read_authWithoutColonIsErrorWithoutValue() throws IOException {
        Path file = tmp.resolve("auth.json");
        Files.writeString(file, "{\"auths\":{\"r.example.com\":{\"auth\":\"" + auth("justasecret") + "\"}}}");
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> AuthFiles.read(file, AuthFiles.Format.AUTH_JSON));
        assertTrue(e.getMessage().contains("auths.r.example.com"), e.getMessage());
        assertFalse(e.getMessage().contains("justasecret"), e.getMessage());
        assertFalse(e.getMessage().contains(auth("justasecret")), e.getMessage());
    }

    @Test
    void read_invalidJsonDoesNotQuoteTheFile() throws IOException {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "{\"auths\":{\"r.example.com\":{\"auth\":\"topsecretvalue\" oops}}}");
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> AuthFiles.read(file, AuthFiles.Format.DOCKER_CONFIG));
        assertEquals(CredentialsException.Kind.INVALID_FILE, e.kind());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("topsecretvalue"), e.getMessage());
        assertEquals(null, e.getCause());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"credsStore\":\"../../bin/sh\"}", "{\"credHelpers\":{\"gcr.io\":\"Gcloud Helper\"}}",
        "{\"credHelpers\":{\"gcr.io\":\"\"}}", "{\"auths\":[]}", "{\"auths\":{\"r.example.com\":\"x\"}}",
        "{\"auths\":{\"r.example.com\":{\"auth\":1}}}", "[]"})
    void read_badStructureIsInvalidFile(String json) throws IOException {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, json);
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> AuthFiles.read(file, AuthFiles.Format.DOCKER_CONFIG));
        assertEquals(CredentialsException.Kind.INVALID_FILE, e.kind());
        assertTrue(e.getMessage().startsWith("credentials file " + file + ": "), e.getMessage());
    }

    @Test
    void toString_showsNoSecret() throws IOException {
        AuthFiles files = read("auth.json", AuthFiles.Format.AUTH_JSON,
                "{\"auths\":{\"r.example.com\":{\"auth\":\"" + auth("u:hidden-pw") + "\"},"
                        + "\"t.example.com\":{\"identitytoken\":\"hidden-token\"}}}");
        String text = files.toString();
        assertTrue(text.contains("r.example.com"), text);
        assertFalse(text.contains("hidden-pw") || text.contains("hidden-token") || text.contains(auth("u:hidden-pw")),
                text);
    }

    private static String user(Optional<Credentials> credentials) {
        return ((Credentials.Basic) credentials.orElseThrow()).user();
    }
}
