package io.mirrorball.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.OciException;
import io.mirrorball.oci.RepositoryName;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Challenge parsing, token cache expiry, Docker Hub mapping and tag freshness, with an injected ticker. */
final class UpstreamUnitTest {
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    /** A ticker the test moves by hand. */
    static final class FakeTicker implements Ticker {
        private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

        @Override
        public long read() {
            return nanos.get();
        }

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }
    }

    @Test
    void parse_dockerHubBearerChallenge() {
        List<AuthChallenge> challenges = AuthChallenge.parse("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"");
        assertEquals(1, challenges.size());
        AuthChallenge c = challenges.get(0);
        assertTrue(c.isBearer());
        assertEquals("https://auth.docker.io/token", c.param("realm"));
        assertEquals("registry.docker.io", c.param("service"));
        assertEquals("repository:library/alpine:pull", c.param("scope"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // header | challenges | first scheme | realm of first | second scheme
            "Basic realm=\"registry\"|1|basic|registry|",
            "basic realm=registry|1|basic|registry|",
            "Bearer realm=\"http://127.0.0.1:5/t\" , service=\"s\"|1|bearer|http://127.0.0.1:5/t|",
            "Basic realm=\"a\", Bearer realm=\"b\",service=\"x\"|2|basic|a|bearer",
            "Bearer realm=\"with \\\"quote\\\" and , comma\"|1|bearer|with \"quote\" and , comma|",
            "Bearer|1|bearer||",
            "BEARER REALM=\"r\"|1|bearer|r|",
            "Negotiate, Basic realm=\"z\"|2|negotiate||basic",
    })
    void parse_table(String header, int count, String first, String realm, String second) {
        List<AuthChallenge> challenges = AuthChallenge.parse(header);
        assertEquals(count, challenges.size(), challenges.toString());
        assertEquals(first, challenges.get(0).scheme());
        assertEquals(realm, challenges.get(0).param("realm"));
        if (second != null) {
            assertEquals(second, challenges.get(1).scheme());
        }
    }

    @Test
    void parse_nullOrEmpty_noChallenges() {
        assertTrue(AuthChallenge.parse(null).isEmpty());
        assertTrue(AuthChallenge.parse("  ").isEmpty());
    }

    @Test
    void tokenCache_expiresBeforeExpiresIn() {
        FakeTicker ticker = new FakeTicker();
        TokenCache cache = new TokenCache(ticker);
        TokenCache.Key key = new TokenCache.Key("r", "s", "repository:a:pull");
        cache.put(key, "t1", Duration.ofSeconds(300));
        assertEquals(Optional.of("t1"), cache.get(key));
        ticker.advance(Duration.ofSeconds(269));
        assertEquals(Optional.of("t1"), cache.get(key), "valid until expires_in less 10%");
        ticker.advance(Duration.ofSeconds(2));
        assertEquals(Optional.empty(), cache.get(key), "gone 30 s before the upstream expires it");
    }

    @Test
    void tokenCache_isPerScope() {
        FakeTicker ticker = new FakeTicker();
        TokenCache cache = new TokenCache(ticker);
        cache.put(new TokenCache.Key("r", "s", "repository:a:pull"), "ta", Duration.ofSeconds(60));
        assertEquals(Optional.empty(), cache.get(new TokenCache.Key("r", "s", "repository:b:pull")));
        assertEquals(Optional.of("ta"), cache.get(new TokenCache.Key("r", "s", "repository:a:pull")));
    }

    @Test
    void tokenCache_withoutExpiresIn_usesSixtySeconds() {
        FakeTicker ticker = new FakeTicker();
        TokenCache cache = new TokenCache(ticker);
        TokenCache.Key key = new TokenCache.Key("r", null, "x");
        cache.put(key, "t", Duration.ZERO);
        ticker.advance(Duration.ofSeconds(53));
        assertTrue(cache.get(key).isPresent());
        ticker.advance(Duration.ofSeconds(2));
        assertTrue(cache.get(key).isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"token\":\"abc\",\"expires_in\":300}|abc|300",
            "{\"access_token\":\"xyz\",\"expires_in\":120}|xyz|120",
            "{\"token\":\"t\",\"access_token\":\"a\"}|t|60",
            "{\"token\":\"\",\"access_token\":\"a\",\"expires_in\":-5}|a|60",
    })
    void token_parse(String json, String value, long seconds) {
        UpstreamClient.Token token = UpstreamClient.Token.parse(json.getBytes(StandardCharsets.UTF_8), "t");
        assertEquals(value, token.value());
        assertEquals(Duration.ofSeconds(seconds), token.lifetime());
    }

    @Test
    void token_parse_withoutToken_isBadGateway() {
        OciException e = assertThrows(OciException.class,
                () -> UpstreamClient.Token.parse("{\"expires_in\":3}".getBytes(StandardCharsets.UTF_8), "t"));
        assertEquals(502, e.code().status());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://registry-1.docker.io|alpine|library/alpine|https://registry-1.docker.io",
            "docker.io|alpine|library/alpine|https://registry-1.docker.io",
            "https://index.docker.io/|nginx|library/nginx|https://registry-1.docker.io",
            "https://docker.io|bitnami/redis|bitnami/redis|https://registry-1.docker.io",
            "http://127.0.0.1:5000|alpine|alpine|http://127.0.0.1:5000",
            "http://127.0.0.1:5000/|org/app|org/app|http://127.0.0.1:5000",
            "https://ghcr.io|alpine|alpine|https://ghcr.io",
    })
    void remoteName_dockerHubMapping(String url, String name, String remote, String base) {
        UpstreamEndpoint endpoint = UpstreamEndpoint.parse(url);
        assertEquals(remote, endpoint.remoteName(RepositoryName.parse(name)));
        assertEquals(URI.create(base), endpoint.base());
    }

    @Test
    void resolve_buildsTheV2Url() {
        UpstreamEndpoint endpoint = UpstreamEndpoint.parse("docker.io");
        assertEquals(URI.create("https://registry-1.docker.io/v2/library/alpine/tags/list?n=5"),
                endpoint.resolve(RepositoryName.parse("alpine"), "tags/list", "n=5"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://127.0.0.1:5000|http://127.0.0.1:5000/v2/x|true",
            "http://127.0.0.1:5000|http://127.0.0.1:5001/v2/x|false",
            "https://registry-1.docker.io|https://registry-1.docker.io:443/v2/x|true",
            "https://registry-1.docker.io|https://production.cloudflare.docker.com/x|false",
            "https://registry-1.docker.io|http://registry-1.docker.io/x|false",
    })
    void isSameOrigin_credentialsStayWithTheUpstream(String base, String target, boolean same) {
        assertEquals(same, UpstreamEndpoint.parse(base).isSameOrigin(URI.create(target)));
    }

    @Test
    void parse_rejectsOtherSchemes() {
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("ftp://x"));
    }

    @Test
    void tagCache_freshForTtlThenStaleButKept() {
        FakeTicker ticker = new FakeTicker();
        TagCache cache = new TagCache(Duration.ofMinutes(5), ticker);
        TagCache.Key key = new TagCache.Key(RepositoryName.parse("app"), "v1");
        Digest digest = Digest.ofBytes("m".getBytes(StandardCharsets.UTF_8));
        cache.put(key, digest, "application/vnd.oci.image.manifest.v1+json", 1);
        assertTrue(cache.isFresh(cache.get(key).orElseThrow()));
        ticker.advance(Duration.ofMinutes(4).plusSeconds(59));
        assertTrue(cache.isFresh(cache.get(key).orElseThrow()));
        ticker.advance(Duration.ofSeconds(2));
        TagCache.Entry stale = cache.get(key).orElseThrow();
        assertFalse(cache.isFresh(stale), "stale after the TTL");
        assertEquals(digest, stale.digest(), "but still there for stale-if-error");
        cache.put(key, digest, stale.mediaType(), 1);
        assertTrue(cache.isFresh(cache.get(key).orElseThrow()), "revalidation makes it fresh again");
    }

    @Test
    void tagCache_putStale_staleAtOnceAndNeverReplacesAnEntryLearnedMeanwhile() {
        FakeTicker ticker = new FakeTicker();
        TagCache cache = new TagCache(Duration.ofMinutes(5), ticker);
        TagCache.Key key = new TagCache.Key(RepositoryName.parse("app"), "v1");
        Digest kept = Digest.ofBytes("kept".getBytes(StandardCharsets.UTF_8));
        TagCache.Entry read = cache.putStale(key, kept, null, 4);
        assertFalse(cache.isFresh(read), "read back from the store: revalidated on first use");
        assertEquals(kept, cache.get(key).orElseThrow().digest());
        TagCache.Key other = new TagCache.Key(RepositoryName.parse("app"), "v2");
        Digest learned = Digest.ofBytes("learned".getBytes(StandardCharsets.UTF_8));
        cache.put(other, learned, "application/vnd.oci.image.manifest.v1+json", 7);
        assertEquals(learned, cache.putStale(other, kept, null, 4).digest());
        assertTrue(cache.isFresh(cache.get(other).orElseThrow()));
    }

    @Test
    void mirrorPipe_failureReachesTheReader() throws Exception {
        try (MirrorPipe pipe = new MirrorPipe(tmp, Duration.ofSeconds(5));
             var reader = pipe.reader()) {
            assertTrue(pipe.offer(new byte[] {1, 2, 3}, 3));
            byte[] buffer = new byte[10];
            assertEquals(3, reader.read(buffer));
            pipe.fail(new java.io.IOException("wrong bytes"));
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> reader.read(buffer));
            assertEquals("wrong bytes", e.getMessage());
        }
    }

    @Test
    void mirrorPipe_readersTailTheFileAndTheLastOneDeletesIt() throws Exception {
        MirrorPipe pipe = new MirrorPipe(tmp, Duration.ofSeconds(30));
        var whole = pipe.reader();
        var range = pipe.reader(1, 3);
        assertTrue(pipe.hasJoiners());
        assertTrue(pipe.offer(new byte[] {1, 2}, 2));
        whole.close();
        assertTrue(pipe.offer(new byte[] {3, 4}, 2), "the writer goes on for the other readers");
        byte[] buffer = new byte[10];
        assertEquals(2, range.read(buffer));
        assertEquals(2, buffer[0]);
        assertEquals(3, buffer[1]);
        pipe.finish();
        assertEquals(-1, range.read(buffer), "the range ends once the writer verified the blob");
        pipe.close();
        try (var files = java.nio.file.Files.list(tmp)) {
            assertEquals(1, files.count(), "a reader still holds the spool file");
        }
        range.close();
        assertFalse(pipe.hasJoiners());
        try (var files = java.nio.file.Files.list(tmp)) {
            assertEquals(0, files.count(), "the last reader deletes the spool file");
        }
        assertEquals(null, pipe.reader(0, 4), "no reader once the file is gone");
    }

    @Test
    void mirrorPipe_rangeReaderEndsOnlyAfterVerification() throws Exception {
        try (MirrorPipe pipe = new MirrorPipe(tmp, Duration.ofSeconds(5));
             var reader = pipe.reader(0, 2)) {
            assertTrue(pipe.offer(new byte[] {5, 6, 7}, 3));
            byte[] buffer = new byte[10];
            assertEquals(2, reader.read(buffer));
            pipe.fail(new java.io.IOException("wrong bytes"));
            assertThrows(java.io.IOException.class, () -> reader.read(buffer), "the failure, not the end");
        }
    }

    @Test
    void mirrorPipe_readerWaitsForTheWriterThenEnds() throws Exception {
        try (MirrorPipe pipe = new MirrorPipe(tmp, Duration.ofSeconds(5));
             var reader = pipe.reader()) {
            Thread writer = new Thread(() -> {
                try {
                    Thread.sleep(200);
                    pipe.offer(new byte[] {7, 8}, 2);
                    pipe.finish();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            writer.start();
            assertEquals(7, reader.read());
            assertEquals(8, reader.read());
            assertEquals(-1, reader.read());
            writer.join();
        }
    }

    @Test
    void readCapped_manifestOverCap_is413() {
        OciException e = assertThrows(OciException.class, () -> Bodies.readCapped(
                new java.io.ByteArrayInputStream(new byte[100]), 99, true, "m"));
        assertEquals(413, e.code().status());
        assertEquals(Map.of(), Map.of());
    }

    // ---------------------------------------------------------------- redirects and addresses

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "file:///etc/passwd              | ",
            "ftp://cdn.example/blob          | ",
            "gopher://cdn.example/x          | ",
            "http://user:pw@cdn.example/x    | ",
            "'  '                            | ",
            "http://[bad                     | ",
            "https:opaque                    | ",
            "/v2/other/blobs/x               | https://registry.example/v2/other/blobs/x",
            "https://cdn.example/b?sig=1     | https://cdn.example/b?sig=1",
            "HTTP://cdn.example/b            | HTTP://cdn.example/b"})
    void redirectTarget_onlyAbsoluteHttp(String location, String expected) {
        URI from = URI.create("https://registry.example/v2/a/blobs/sha256:00");
        URI target = UpstreamClient.redirectTarget(from, location);
        assertEquals(expected, target == null ? null : target.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "8.8.8.8          | PUBLIC", "127.0.0.1 | LOOPBACK", "::1 | LOOPBACK", "10.1.2.3 | PRIVATE",
            "172.16.0.1       | PRIVATE", "192.168.1.1 | PRIVATE", "100.64.0.1 | PRIVATE", "fd12::1 | PRIVATE",
            "169.254.169.254  | LINK_LOCAL", "fe80::1 | LINK_LOCAL", "0.0.0.0 | SPECIAL", "224.0.0.1 | SPECIAL",
            "::ffff:127.0.0.1 | LOOPBACK", "::ffff:169.254.169.254 | LINK_LOCAL"})
    void addressKind_classifies(String address, AddressPolicy.Kind kind) throws Exception {
        assertEquals(kind, AddressPolicy.kind(java.net.InetAddress.getByName(address)));
    }

    /** A resolver over a fixed table, so policies are tested without DNS. */
    private static org.apache.hc.client5.http.DnsResolver table(Map<String, String> hosts) {
        return new org.apache.hc.client5.http.DnsResolver() {
            @Override
            public java.net.InetAddress[] resolve(String host) throws java.net.UnknownHostException {
                String address = hosts.get(host);
                if (address == null) {
                    throw new java.net.UnknownHostException(host);
                }
                return new java.net.InetAddress[] {java.net.InetAddress.getByName(address)};
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // upstream host resolves to | target | allow-list | allowed
            "52.1.2.3  | 54.1.1.1        | ''                      | true",
            "52.1.2.3  | 127.0.0.1       | ''                      | false",
            "52.1.2.3  | 10.0.0.7        | ''                      | false",
            "52.1.2.3  | 169.254.169.254 | ''                      | false",
            "52.1.2.3  | 0.0.0.0         | ''                      | false",
            "52.1.2.3  | 10.0.0.7        | 10.0.0.0/8              | true",
            "52.1.2.3  | 10.0.0.7        | 10.0.1.0/24             | false",
            "52.1.2.3  | 169.254.169.254 | target.example          | true",
            "10.0.0.5  | 10.9.9.9        | ''                      | true",
            "10.0.0.5  | 169.254.169.254 | ''                      | false",
            "10.0.0.5  | 127.0.0.1       | ''                      | false",
            "127.0.0.1 | 127.0.0.2       | ''                      | true",
            "127.0.0.1 | 169.254.169.254 | ''                      | false",
            "127.0.0.1 | 10.1.1.1        | ''                      | false"})
    void addressPolicy_redirectTargets(String upstreamAddress, String targetAddress, String allow, boolean allowed)
            throws Exception {
        AddressPolicy policy = new AddressPolicy("registry.example", allow.isEmpty() ? List.of() : List.of(allow),
                table(Map.of("registry.example", upstreamAddress, "target.example", targetAddress)));
        if (allowed) {
            assertEquals(java.net.InetAddress.getByName(targetAddress), policy.resolve("target.example")[0]);
        } else {
            assertThrows(AddressPolicy.BlockedAddressException.class, () -> policy.resolve("target.example"));
        }
        // the upstream's own host is always allowed, whatever it resolves to
        assertEquals(1, policy.resolve("registry.example").length);
    }

    /** One byte per read, after {@code delayMillis} inside the read (the upstream's time). */
    private static java.io.InputStream slowSource(int delayMillis) {
        return new java.io.InputStream() {
            @Override
            public int read() throws java.io.IOException {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                return 'x';
            }

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                b[off] = (byte) read();
                return 1;
            }
        };
    }

    @Test
    void progressGuard_upstreamTrickles_fails() {
        UpstreamClient.ProgressGuard guard = new UpstreamClient.ProgressGuard(slowSource(20), Duration.ofMillis(100),
                1000);
        assertThrows(java.io.InterruptedIOException.class, () -> {
            for (int i = 0; i < 100; i++) {
                guard.read(new byte[10], 0, 10);
            }
        });
    }

    @Test
    void progressGuard_slowClientFastUpstream_neverBlamesTheUpstream() throws Exception {
        UpstreamClient.ProgressGuard guard = new UpstreamClient.ProgressGuard(slowSource(0), Duration.ofMillis(100),
                1000);
        for (int i = 0; i < 20; i++) {
            assertEquals(1, guard.read(new byte[10], 0, 10));
            Thread.sleep(20); // the client takes its time: 400 ms in all, 20 bytes, yet no failure
        }
    }
}
