package io.mirrorball.web;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * A certificate chain and its private key read from PEM text, as certbot, cert-manager and openssl
 * write them, held in an in-memory key store for Jetty's {@code SslContextFactory}. The key must
 * belong to the first certificate: a certificate renewed before its key was rewritten is refused,
 * not served.
 */
final class PemCredentials {
    /** The password of the in-memory key store; it never leaves this process. */
    static final String KEY_STORE_PASSWORD = "mirrorball";
    /** A PEM file larger than this is not a certificate chain or a key. */
    static final int MAX_FILE_BYTES = 1 << 20;
    private static final String ALIAS = "mirrorball";
    private static final String CERTIFICATE_KEY = "http.tls.certificate";
    private static final String KEY_KEY = "http.tls.key";

    private final KeyStore keyStore;
    private final List<X509Certificate> chain;

    private PemCredentials(KeyStore keyStore, List<X509Certificate> chain) {
        this.keyStore = keyStore;
        this.chain = List.copyOf(chain);
    }

    /** A file of {@code http.tls} that cannot be used; {@link #key()} names which one. */
    static final class InvalidPemException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String key;

        InvalidPemException(String key, String problem, Throwable cause) {
            super(problem, cause);
            this.key = key;
        }

        /** The configuration key of the file: {@code http.tls.certificate} or {@code http.tls.key}. */
        String key() {
            return key;
        }
    }

    /**
     * Parses the two files' contents.
     *
     * @param certificatePem the chain, server certificate first
     * @param keyPem         its unencrypted private key (PKCS#8, PKCS#1 RSA or SEC1 EC)
     */
    static PemCredentials parse(byte[] certificatePem, byte[] keyPem) throws InvalidPemException {
        List<X509Certificate> chain = certificates(certificatePem);
        PrivateKey key = privateKey(keyPem);
        if (!belongTogether(key, chain.get(0).getPublicKey())) {
            throw new InvalidPemException(KEY_KEY, "the private key does not belong to the certificate ("
                    + chain.get(0).getSubjectX500Principal().getName() + ")", null);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key, KEY_STORE_PASSWORD.toCharArray(), chain.toArray(X509Certificate[]::new));
            return new PemCredentials(store, chain);
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidPemException(KEY_KEY, "cannot hold the key and certificate in a key store: " + e, e);
        }
    }

    KeyStore keyStore() {
        return keyStore;
    }

    /** The server certificate (the first of the chain). */
    X509Certificate certificate() {
        return chain.get(0);
    }

    /** How a log line names the certificate: serial, subject and expiry. */
    String describe() {
        X509Certificate leaf = certificate();
        return "serial=" + leaf.getSerialNumber().toString(16) + " subject=\""
                + leaf.getSubjectX500Principal().getName() + "\" not-after=" + leaf.getNotAfter().toInstant();
    }

    private static List<X509Certificate> certificates(byte[] pem) throws InvalidPemException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = parser(pem)) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                if (item instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
                // a private key or parameters in the same file are the key file's business
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new InvalidPemException(CERTIFICATE_KEY, "not a PEM certificate chain: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new InvalidPemException(CERTIFICATE_KEY, "no CERTIFICATE block in the PEM file", null);
        }
        return chain;
    }

    private static PrivateKey privateKey(byte[] pem) throws InvalidPemException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        PrivateKey key = null;
        try (PEMParser parser = parser(pem)) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                PrivateKey found;
                if (item instanceof PEMKeyPair pair) {  // RSA PRIVATE KEY, EC PRIVATE KEY (its public part optional)
                    found = converter.getPrivateKey(pair.getPrivateKeyInfo());
                } else if (item instanceof PrivateKeyInfo info) {  // PRIVATE KEY (PKCS#8)
                    found = converter.getPrivateKey(info);
                } else if (item instanceof PEMEncryptedKeyPair || item instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new InvalidPemException(KEY_KEY, "the private key is encrypted; write it unencrypted"
                            + " (openssl pkey -in encrypted.pem -out key.pem) and restrict the file's permissions", null);
                } else {
                    continue;  // EC PARAMETERS written by openssl ecparam, or a certificate in a combined file
                }
                if (key != null) {
                    throw new InvalidPemException(KEY_KEY, "more than one private key in the PEM file", null);
                }
                key = found;
            }
        } catch (IOException | RuntimeException e) {
            throw new InvalidPemException(KEY_KEY, "not a PEM private key: " + e.getMessage(), e);
        }
        if (key == null) {
            throw new InvalidPemException(KEY_KEY, "no PRIVATE KEY block in the PEM file", null);
        }
        return key;
    }

    private static PEMParser parser(byte[] pem) {
        return new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)));
    }

    /** Whether {@code key} signs what {@code publicKey} verifies. */
    private static boolean belongTogether(PrivateKey key, PublicKey publicKey) throws InvalidPemException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> throw new InvalidPemException(KEY_KEY, "unsupported key algorithm " + key.getAlgorithm()
                    + " (use RSA, EC or Ed25519)", null);
        };
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        byte[] probe = "mirrorball key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
