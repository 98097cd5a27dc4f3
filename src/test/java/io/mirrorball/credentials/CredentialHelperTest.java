package io.mirrorball.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real {@code docker-credential-test} scripts on an injected PATH. */
final class CredentialHelperTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path bin;

    private CredentialHelper helper(String name, Duration timeout) {
        return CredentialHelper.of(name, HelperScripts.path(bin), timeout);
    }

    @Test
    void get_found() throws IOException {
        HelperScripts.recording(bin, "test", "registry.example.com:5000 alice pw-alice");
        assertEquals(Optional.of(new Credentials.Basic("alice", "pw-alice")),
                helper("test", TIMEOUT).get("registry.example.com:5000"));
        assertEquals(List.of("registry.example.com:5000"), HelperScripts.calls(bin, "test"));
    }

    @Test
    void get_hubIsAskedWithLegacyServerUrl() throws IOException {
        HelperScripts.recording(bin, "test");
        assertEquals(Optional.of(new Credentials.Basic("hubuser", "hub-secret")),
                helper("test", TIMEOUT).get("registry-1.docker.io"));
        assertEquals(List.of("https://index.docker.io/v1/"), HelperScripts.calls(bin, "test"));
    }

    @Test
    void get_tokenUserIsIdentityToken() throws IOException {
        HelperScripts.recording(bin, "test");
        assertEquals(Optional.of(new Credentials.IdentityToken("refresh-tok")),
                helper("test", TIMEOUT).get("token.example.com"));
    }

    @Test
    void get_credentialsNotFoundIsEmpty() throws IOException {
        HelperScripts.recording(bin, "test");
        assertEquals(Optional.empty(), helper("test", TIMEOUT).get("unknown.example.com"));
        assertEquals(List.of("unknown.example.com"), HelperScripts.calls(bin, "test"));
    }

    @Test
    void get_garbageIsHelperFailedWithoutTheOutput() throws IOException {
        HelperScripts.write(bin, "test", "cat >/dev/null; echo 'not json: garbage-secret-123'");
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("test", TIMEOUT).get("r.io"));
        assertEquals(CredentialsException.Kind.HELPER_FAILED, e.kind());
        assertTrue(e.getMessage().contains("docker-credential-test"), e.getMessage());
        assertFalse(e.getMessage().contains("garbage-secret-123"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1,2]", "{\"Username\":1,\"Secret\":\"s\"}", "{\"Username\":\"u\",\"Secret\":{}}"})
    void get_wrongJsonShapeIsHelperFailed(String json) throws IOException {
        HelperScripts.write(bin, "test", "cat >/dev/null; printf '%s' '" + json + "'");
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("test", TIMEOUT).get("r.io"));
        assertEquals("credential helper docker-credential-test answered with something other than its JSON",
                e.getMessage());
    }

    @Test
    void get_failingHelperNamesExitStatusNotOutput() throws IOException {
        HelperScripts.write(bin, "test", "cat >/dev/null; echo 'error: leaked-secret-42'; exit 3");
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("test", TIMEOUT).get("r.io"));
        assertEquals("credential helper docker-credential-test failed with exit status 3", e.getMessage());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void get_hangingHelperIsKilledAtTimeout() throws IOException {
        // the sleep runs in the background and holds stdout open: it must be killed too
        HelperScripts.write(bin, "test", "sleep 600 & echo $! > \"$(dirname \"$0\")/pid\"; wait");
        CredentialsException e = assertThrows(CredentialsException.class,
                () -> helper("test", Duration.ofMillis(500)).get("r.io"));
        assertEquals(CredentialsException.Kind.HELPER_FAILED, e.kind());
        assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
        long pid = Long.parseLong(Files.readString(bin.resolve("pid")).trim());
        ProcessHandle.of(pid).ifPresent(handle -> handle.onExit().join());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void get_oversizedAnswerIsHelperFailed() throws IOException {
        HelperScripts.write(bin, "test", "cat >/dev/null; head -c 70000 /dev/zero | tr '\\0' 'x'");
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("test", TIMEOUT).get("r.io"));
        assertEquals("credential helper docker-credential-test answered with more than 64 KiB", e.getMessage());
    }

    @Test
    void get_helperMissingFromPathIsClearError() {
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("absent", TIMEOUT).get("r.io"));
        assertEquals(CredentialsException.Kind.HELPER_FAILED, e.kind());
        assertEquals("credential helper docker-credential-absent is not installed", e.getMessage());
    }

    @Test
    void get_nonExecutableFileIsNotInstalled() throws IOException {
        Files.writeString(bin.resolve("docker-credential-test"), "#!/bin/sh\necho '{}'\n");
        CredentialsException e = assertThrows(CredentialsException.class, () -> helper("test", TIMEOUT).get("r.io"));
        assertEquals("credential helper docker-credential-test is not installed", e.getMessage());
    }

    @Test
    void get_usesInjectedPathOnly() throws IOException {
        Path other = Files.createDirectory(bin.resolve("other"));
        HelperScripts.recording(other, "test", "r.io bob pw");
        CredentialHelper first = CredentialHelper.of("test", HelperScripts.path(bin), TIMEOUT);
        assertThrows(CredentialsException.class, () -> first.get("r.io"));
        CredentialHelper second = CredentialHelper.of("test", HelperScripts.path(other), TIMEOUT);
        assertEquals(Optional.of(new Credentials.Basic("bob", "pw")), second.get("r.io"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "../sh", "a/b", "Desktop", "a b", "pass;rm"})
    void of_invalidNameIsRefused(String name) {
        assertThrows(IllegalArgumentException.class, () -> CredentialHelper.of(name, "/bin", TIMEOUT));
    }
}
