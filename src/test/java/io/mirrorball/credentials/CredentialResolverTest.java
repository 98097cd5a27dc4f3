package io.mirrorball.credentials;

import static io.mirrorball.credentials.AuthFilesTest.auth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lookup order, with a temporary HOME, XDG_* and DOCKER_CONFIG, and real helper scripts. */
final class CredentialResolverTest {
    private static final String REGISTRY = "registry.example.com";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;
    Path home;
    Path bin;
    Map<String, String> env;

    @BeforeEach
    void setUp() throws IOException {
        home = Files.createDirectory(tmp.resolve("home"));
        bin = Files.createDirectory(tmp.resolve("bin"));
        env = new HashMap<>();
        env.put("PATH", HelperScripts.path(bin));
    }

    private CredentialResolver resolver(Optional<Credentials> explicit, Optional<Path> authFile) {
        return CredentialResolver.of(explicit, authFile, env, home, TIMEOUT);
    }

    private CredentialResolver resolver() {
        return resolver(Optional.empty(), Optional.empty());
    }

    private static Path write(Path file, String json) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, json);
        return file;
    }

    private static String auths(String key, String user) {
        return "{\"auths\":{\"" + key + "\":{\"auth\":\"" + auth(user + ":pw-" + user) + "\"}}}";
    }

    private static Credentials basic(String user) {
        return new Credentials.Basic(user, "pw-" + user);
    }

    @Test
    void resolve_nothingConfiguredIsAnonymous() {
        assertEquals(Credentials.ANONYMOUS, resolver().resolve(REGISTRY, "team/app"));
    }

    @Test
    void resolve_followsTheOrderOfThePlan() throws IOException {
        Path authFile = write(tmp.resolve("flag/auth.json"), auths(REGISTRY, "flag"));
        Path envFile = write(tmp.resolve("env/auth.json"), auths(REGISTRY, "envfile"));
        env.put("REGISTRY_AUTH_FILE", envFile.toString());
        Path runtime = write(tmp.resolve("run/containers/auth.json"), auths(REGISTRY, "runtime"));
        env.put("XDG_RUNTIME_DIR", tmp.resolve("run").toString());
        Path config = write(tmp.resolve("xdg/containers/auth.json"), auths(REGISTRY, "xdgconfig"));
        env.put("XDG_CONFIG_HOME", tmp.resolve("xdg").toString());
        Path homeConfig = write(home.resolve(".config/containers/auth.json"), auths(REGISTRY, "homeconfig"));
        Path dockerConfig = write(tmp.resolve("dc/config.json"), auths("https://" + REGISTRY + "/v1/", "dockerconfig"));
        env.put("DOCKER_CONFIG", tmp.resolve("dc").toString());
        Path homeDocker = write(home.resolve(".docker/config.json"), auths(REGISTRY, "homedocker"));
        write(home.resolve(".dockercfg"), "{\"" + REGISTRY + "\":{\"auth\":\"" + auth("dockercfg:pw-dockercfg")
                + "\",\"email\":\"a@example.com\"}}");

        assertEquals(basic("explicit"), resolver(Optional.of(basic("explicit")), Optional.of(authFile))
                .resolve(REGISTRY, "team/app"));
        assertEquals(basic("flag"), resolver(Optional.empty(), Optional.of(authFile)).resolve(REGISTRY, "team/app"));
        assertEquals(basic("envfile"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(envFile);
        assertEquals(basic("runtime"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(runtime);
        assertEquals(basic("xdgconfig"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(config);
        env.remove("XDG_CONFIG_HOME");
        assertEquals(basic("homeconfig"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(homeConfig);
        assertEquals(basic("dockerconfig"), resolver().resolve(REGISTRY, "team/app"));
        env.remove("DOCKER_CONFIG");
        assertEquals(basic("homedocker"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(homeDocker);
        assertEquals(basic("dockercfg"), resolver().resolve(REGISTRY, "team/app"));
        Files.delete(dockerConfig);
        assertEquals(basic("dockercfg"), resolver().resolve(REGISTRY, "team/app"));
    }

    @Test
    void files_listsTheLocationsInOrder() {
        env.put("REGISTRY_AUTH_FILE", "/etc/ra.json");
        env.put("XDG_RUNTIME_DIR", "/run/user/1000");
        assertEquals(List.of(Path.of("/etc/ra.json"), Path.of("/run/user/1000/containers/auth.json"),
                home.resolve(".config/containers/auth.json"), home.resolve(".docker/config.json"),
                home.resolve(".dockercfg")), resolver().files());
        assertEquals(Path.of("/x/auth.json"), resolver(Optional.empty(), Optional.of(Path.of("/x/auth.json")))
                .files().get(0));
    }

    @Test
    void resolve_fileWithoutEntrySkippedForTheNext() throws IOException {
        write(home.resolve(".config/containers/auth.json"), auths("other.example.com", "other"));
        write(home.resolve(".docker/config.json"), auths(REGISTRY, "docker"));
        assertEquals(basic("docker"), resolver().resolve(REGISTRY, "team/app"));
        assertEquals(basic("other"), resolver().resolve("other.example.com", "team/app"));
    }

    @Test
    void resolve_namespacedKeyInAuthJson() throws IOException {
        write(home.resolve(".config/containers/auth.json"), """
                {"auths": {"%s": {"auth": "%s"}, "%s/team": {"auth": "%s"}}}"""
                .formatted(REGISTRY, auth("host:pw-host"), REGISTRY, auth("team:pw-team")));
        assertEquals(basic("team"), resolver().resolve(REGISTRY, "team/app"));
        assertEquals(basic("host"), resolver().resolve(REGISTRY, "other/app"));
    }

    @Test
    void resolve_hubAliasesShareOneEntry() throws IOException {
        write(home.resolve(".docker/config.json"), auths("https://index.docker.io/v1/", "hub"));
        CredentialResolver resolver = resolver();
        assertEquals(basic("hub"), resolver.resolve("registry-1.docker.io", "library/alpine"));
        assertEquals(basic("hub"), resolver.resolve("docker.io", "library/alpine"));
        assertEquals(basic("hub"), resolver.resolve("index.docker.io", "someone/app"));
    }

    @Test
    void resolve_credHelperBeforeAuthsBeforeCredsStore() throws IOException {
        HelperScripts.recording(bin, "first", REGISTRY + " fromhelper pw-fromhelper");
        HelperScripts.recording(bin, "store", REGISTRY + " fromstore pw-fromstore",
                "store-only.example.com fromstore pw-fromstore");
        write(home.resolve(".docker/config.json"), """
                {"auths": {"%s": {"auth": "%s"}, "auths-only.example.com": {"auth": "%s"}},
                 "credHelpers": {"%s": "first"},
                 "credsStore": "store"}"""
                .formatted(REGISTRY, auth("fromauths:pw-fromauths"), auth("fromauths:pw-fromauths"), REGISTRY));
        CredentialResolver resolver = resolver();
        assertEquals(basic("fromhelper"), resolver.resolve(REGISTRY, "a/b"));
        assertEquals(basic("fromauths"), resolver.resolve("auths-only.example.com", "a/b"));
        assertEquals(basic("fromstore"), resolver.resolve("store-only.example.com", "a/b"));
        assertEquals(List.of(REGISTRY), HelperScripts.calls(bin, "first"));
        assertEquals(List.of("store-only.example.com"), HelperScripts.calls(bin, "store"));
    }

    @Test
    void resolve_helperWithoutEntryFallsToAuths() throws IOException {
        HelperScripts.recording(bin, "first");
        write(home.resolve(".docker/config.json"), """
                {"auths": {"%s": {"auth": "%s"}}, "credHelpers": {"%s": "first"}}"""
                .formatted(REGISTRY, auth("fromauths:pw-fromauths"), REGISTRY));
        assertEquals(basic("fromauths"), resolver().resolve(REGISTRY, "a/b"));
        assertEquals(List.of(REGISTRY), HelperScripts.calls(bin, "first"));
    }

    @Test
    void resolve_hubThroughCredsStoreAsksLegacyUrl() throws IOException {
        HelperScripts.recording(bin, "test");
        write(home.resolve(".docker/config.json"), "{\"auths\":{\"https://index.docker.io/v1/\":{}},"
                + "\"credsStore\":\"test\"}");
        assertEquals(new Credentials.Basic("hubuser", "hub-secret"),
                resolver().resolve("registry-1.docker.io", "library/alpine"));
        assertEquals(List.of("https://index.docker.io/v1/"), HelperScripts.calls(bin, "test"));
    }

    @Test
    void supplier_isLazyAndLooksUpOnce() throws IOException {
        HelperScripts.recording(bin, "test", REGISTRY + " lazy pw-lazy");
        write(home.resolve(".docker/config.json"), "{\"credsStore\":\"test\"}");
        CredentialResolver resolver = resolver();
        Supplier<Credentials> supplier = resolver.supplier(REGISTRY, "a/b");
        assertEquals(List.of(), HelperScripts.calls(bin, "test"));
        assertEquals(basic("lazy"), supplier.get());
        assertEquals(basic("lazy"), supplier.get());
        assertEquals(basic("lazy"), resolver.resolve(REGISTRY, "a/b"));
        assertEquals(List.of(REGISTRY), HelperScripts.calls(bin, "test"));
    }

    @Test
    void supplier_malformedFileFailsOnlyWhenAsked() throws IOException {
        Path file = write(home.resolve(".docker/config.json"),
                "{\"auths\":{\"" + REGISTRY + "\":{\"auth\":\"!!secret-value!!\"}}}");
        Supplier<Credentials> supplier = resolver().supplier(REGISTRY, "a/b");
        CredentialsException e = assertThrows(CredentialsException.class, supplier::get);
        assertEquals(CredentialsException.Kind.INVALID_FILE, e.kind());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("secret-value"), e.getMessage());
    }

    @Test
    void resolve_missingCredsStoreHelperIsHelperFailed() throws IOException {
        write(home.resolve(".docker/config.json"), "{\"credsStore\":\"desktop\"}");
        CredentialResolver resolver = resolver();
        Supplier<Credentials> supplier = resolver.supplier(REGISTRY, "a/b");
        CredentialsException e = assertThrows(CredentialsException.class, supplier::get);
        assertEquals(CredentialsException.Kind.HELPER_FAILED, e.kind());
        assertEquals("credential helper docker-credential-desktop is not installed", e.getMessage());
    }

    @Test
    void resolve_missingAuthFileFlagIsInvalidFile() {
        Path absent = tmp.resolve("absent.json");
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> resolver(Optional.empty(), Optional.of(absent)).resolve(REGISTRY, "a/b"));
        assertEquals(CredentialsException.Kind.INVALID_FILE, e.kind());
        assertTrue(e.getMessage().contains(absent.toString()), e.getMessage());
    }

    @Test
    void resolve_missingRegistryAuthFileIsSkipped() throws IOException {
        env.put("REGISTRY_AUTH_FILE", tmp.resolve("absent.json").toString());
        write(home.resolve(".docker/config.json"), auths(REGISTRY, "docker"));
        assertEquals(basic("docker"), resolver().resolve(REGISTRY, "a/b"));
    }

    @Test
    void resolve_emptyVariablesMeanUnset() throws IOException {
        env.put("XDG_CONFIG_HOME", "");
        env.put("DOCKER_CONFIG", "");
        env.put("REGISTRY_AUTH_FILE", "");
        write(home.resolve(".config/containers/auth.json"), auths(REGISTRY, "homeconfig"));
        assertEquals(basic("homeconfig"), resolver().resolve(REGISTRY, "a/b"));
    }
}
