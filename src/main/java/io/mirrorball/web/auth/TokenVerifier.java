package io.mirrorball.web.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.mirrorball.config.MirrorballConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertPath;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertPathValidator;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies the bearer tokens of the Docker token spec as distribution's {@code registry/auth/token}
 * does: a JWS signed with RS*, PS* or ES* by a key found through the {@code x5c} certificate chain
 * (which must lead to a certificate of the root bundle), an {@code jwk} header (with such a chain, or
 * with the key ID of a bundle key), or a {@code kid} header naming the RFC 7638 thumbprint of a bundle
 * certificate's key; then {@code iss} must be the issuer, {@code aud} must contain the service, and
 * {@code exp} and {@code nbf} must hold within {@link #LEEWAY}.
 *
 * <p>Verified tokens are kept for {@link #CACHE_EXPIRY} (bounded; keyed by the SHA-256 of the token,
 * never the token itself), so a push of many requests pays the signature check once; the expiry is
 * checked again on every use.
 */
public final class TokenVerifier {
    /** Clock skew allowed on {@code exp} and {@code nbf}, as distribution's. */
    public static final Duration LEEWAY = Duration.ofSeconds(60);
    static final Duration CACHE_EXPIRY = Duration.ofMinutes(1);
    private static final long CACHE_SIZE = 10_000;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    private final String issuer;
    private final String service;
    private final Set<X509Certificate> roots;
    private final Set<TrustAnchor> anchors;
    /** The keys of the bundle by their JWK thumbprint, for tokens naming their key by {@code kid}. */
    private final Map<String, PublicKey> trustedKeys;
    private final Clock clock;
    private final Cache<String, TokenGrant> verified;

    private TokenVerifier(String issuer, String service, List<X509Certificate> roots, Clock clock, Ticker ticker) {
        this.issuer = issuer;
        this.service = service;
        this.roots = Set.copyOf(roots);
        Set<TrustAnchor> a = new HashSet<>();
        Map<String, PublicKey> keys = new HashMap<>();
        for (X509Certificate root : roots) {
            a.add(new TrustAnchor(root, null));
            String thumbprint = thumbprint(root.getPublicKey());
            if (thumbprint != null) {
                keys.put(thumbprint, root.getPublicKey());
            }
        }
        this.anchors = Set.copyOf(a);
        this.trustedKeys = Map.copyOf(keys);
        this.clock = clock;
        this.verified = Caffeine.newBuilder().maximumSize(CACHE_SIZE).expireAfterWrite(CACHE_EXPIRY).ticker(ticker)
                .build();
    }

    /** A verifier for the configured issuer, service and certificate bundle. */
    public static TokenVerifier of(MirrorballConfig.Token config, Clock clock, Ticker ticker) throws IOException {
        return new TokenVerifier(config.issuer(), config.service(), readBundle(config), clock, ticker);
    }

    private static List<X509Certificate> readBundle(MirrorballConfig.Token config) throws IOException {
        try (InputStream in = Files.newInputStream(config.rootCertBundle())) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in);
            List<X509Certificate> roots = new ArrayList<>();
            for (Certificate certificate : certificates) {
                roots.add((X509Certificate) certificate);
            }
            if (roots.isEmpty()) {
                throw new IOException("no certificate in " + config.rootCertBundle());
            }
            return roots;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the certificates of " + config.rootCertBundle() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The grant of a valid token. */
    public TokenGrant verify(String token) throws InvalidTokenException {
        String key = sha256(token);
        TokenGrant grant = verified.getIfPresent(key);
        if (grant == null) {
            grant = check(token);
            verified.put(key, grant);
        }
        if (clock.instant().isAfter(grant.expires().plus(LEEWAY))) {
            verified.invalidate(key);
            throw new InvalidTokenException("token expired at " + grant.expires());
        }
        return grant;
    }

    private TokenGrant check(String token) throws InvalidTokenException {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new InvalidTokenException("malformed token: " + e.getMessage());
        }
        JWSHeader header = jwt.getHeader();
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            throw new InvalidTokenException("unsupported signing algorithm " + header.getAlgorithm());
        }
        PublicKey key = signingKey(header);
        try {
            JWSVerifier verifier = new DefaultJWSVerifierFactory().createJWSVerifier(header, key);
            if (!jwt.verify(verifier)) {
                throw new InvalidTokenException("bad signature");
            }
        } catch (JOSEException e) {
            throw new InvalidTokenException("cannot verify the signature: " + e.getMessage());
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException("malformed claims: " + e.getMessage());
        }
        if (!issuer.equals(claims.getIssuer())) {
            throw new InvalidTokenException("untrusted issuer " + claims.getIssuer());
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(service)) {
            throw new InvalidTokenException("token is for another audience " + claims.getAudience());
        }
        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null || now.isAfter(exp.toInstant().plus(LEEWAY))) {
            throw new InvalidTokenException("token expired at " + (exp == null ? "(no exp)" : exp.toInstant()));
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.isBefore(nbf.toInstant().minus(LEEWAY))) {
            throw new InvalidTokenException("token not valid before " + nbf.toInstant());
        }
        String subject = claims.getSubject() == null ? "" : claims.getSubject();
        return new TokenGrant(subject, access(claims.getClaim("access")), exp.toInstant());
    }

    /** The key that signed the token, found as distribution finds it. */
    private PublicKey signingKey(JWSHeader header) throws InvalidTokenException {
        if (header.getX509CertChain() != null && !header.getX509CertChain().isEmpty()) {
            return chainKey(header.getX509CertChain());
        }
        JWK jwk = header.getJWK();
        if (jwk != null) {
            if (jwk.getX509CertChain() != null && !jwk.getX509CertChain().isEmpty()) {
                return chainKey(jwk.getX509CertChain());
            }
            PublicKey key = jwk.getKeyID() == null ? null : trustedKeys.get(jwk.getKeyID());
            if (key == null) {
                throw new InvalidTokenException("untrusted JWK with no certificate chain");
            }
            return key;
        }
        if (header.getKeyID() != null) {
            PublicKey key = trustedKeys.get(header.getKeyID());
            if (key == null) {
                throw new InvalidTokenException("token signed by an untrusted key " + header.getKeyID());
            }
            return key;
        }
        throw new InvalidTokenException("token names no signing key (x5c, jwk or kid)");
    }

    /** The key of the first certificate, once the chain leads to a certificate of the bundle. */
    private PublicKey chainKey(List<Base64> encoded) throws InvalidTokenException {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new ArrayList<>();
            for (Base64 one : encoded) {
                try (InputStream in = new java.io.ByteArrayInputStream(one.decode())) {
                    chain.add((X509Certificate) factory.generateCertificate(in));
                }
            }
            X509Certificate leaf = chain.get(0);
            Date now = Date.from(clock.instant());
            leaf.checkValidity(now);
            if (roots.contains(leaf)) {
                return leaf.getPublicKey();
            }
            List<X509Certificate> path = new ArrayList<>();
            for (X509Certificate certificate : chain) {
                if (roots.contains(certificate)) {
                    break; // the anchor itself is not part of the path
                }
                path.add(certificate);
            }
            CertPath certPath = factory.generateCertPath(path);
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(now);
            CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
            return leaf.getPublicKey();
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            throw new InvalidTokenException("the x5c chain does not lead to a trusted certificate: " + e.getMessage());
        }
    }

    /** The {@code access} claim: a list of {@code {type, name, actions}}; anything malformed grants nothing. */
    private static Map<String, Set<String>> access(Object claim) throws InvalidTokenException {
        Map<String, Set<String>> access = new HashMap<>();
        if (claim == null) {
            return access;
        }
        if (!(claim instanceof List<?> entries)) {
            throw new InvalidTokenException("the access claim is not a list");
        }
        for (Object entry : entries) {
            if (!(entry instanceof Map<?, ?> map) || !(map.get("type") instanceof String type)
                    || !(map.get("name") instanceof String name)) {
                throw new InvalidTokenException("malformed entry in the access claim");
            }
            Set<String> actions = access.computeIfAbsent(type + ":" + name, k -> new HashSet<>());
            if (map.get("actions") instanceof List<?> list) {
                for (Object action : list) {
                    if (action instanceof String text) {
                        actions.add(text);
                    }
                }
            }
        }
        Map<String, Set<String>> frozen = new HashMap<>();
        access.forEach((resource, actions) -> frozen.put(resource, Set.copyOf(actions)));
        return frozen;
    }

    /** The RFC 7638 SHA-256 thumbprint of an RSA or EC key (distribution's GetJWKThumbprint), or null. */
    static String thumbprint(PublicKey key) {
        try {
            if (key instanceof RSAPublicKey rsa) {
                return new RSAKey.Builder(rsa).build().computeThumbprint().toString();
            }
            if (key instanceof ECPublicKey ec) {
                return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build().computeThumbprint()
                        .toString();
            }
        } catch (JOSEException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
