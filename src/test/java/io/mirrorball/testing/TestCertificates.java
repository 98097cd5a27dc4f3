package io.mirrorball.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test certificate authority (BouncyCastle, no files until asked): it issues server certificates
 * for {@code localhost} and {@code 127.0.0.1}, written as PEM the way certbot and openssl write
 * them, and makes the {@link SSLContext} of a client that trusts it.
 *
 * <pre>
 * TestCertificates ca = TestCertificates.authority();
 * TestCertificates.Issued first = ca.issue(BigInteger.valueOf(1), KeyFormat.PKCS8_EC);
 * first.write(dir.resolve("fullchain.pem"), dir.resolve("privkey.pem"));
 * ca.writeCertificate(certDir.resolve("ca.crt"));
 * </pre>
 */
public final class TestCertificates {
    /** How an issued key is generated and written. */
    public enum KeyFormat {
        /** EC P-256, "PRIVATE KEY" (PKCS#8), as certbot and cert-manager write it. */
        PKCS8_EC,
        /** EC P-256, "EC PRIVATE KEY" (SEC1), as openssl ecparam -genkey writes it. */
        SEC1_EC,
        /** RSA 2048, "PRIVATE KEY" (PKCS#8). */
        PKCS8_RSA,
        /** RSA 2048, "RSA PRIVATE KEY" (PKCS#1), as older openssl genrsa writes it. */
        PKCS1_RSA
    }

    /** A server certificate and its key. */
    public record Issued(X509Certificate certificate, PrivateKey key, KeyFormat format, String keyPem) {
        public BigInteger serial() {
            return certificate.getSerialNumber();
        }

        /** The certificate's PEM text. */
        public String certificatePem() {
            return pem(certificate);
        }

        /** Writes the certificate and key PEM files (replacing them). */
        public Issued write(Path certificateFile, Path keyFile) {
            try {
                Files.writeString(certificateFile, certificatePem());
                Files.writeString(keyFile, keyPem());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }
    }

    private final KeyPair keys;
    private final X509Certificate certificate;

    private TestCertificates(KeyPair keys, X509Certificate certificate) {
        this.keys = keys;
        this.certificate = certificate;
    }

    /** A new self-signed CA, valid from an hour ago for a day. */
    public static TestCertificates authority() {
        try {
            KeyPair keys = ec();
            X500Name name = new X500Name("CN=mirrorball test CA " + System.nanoTime());
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                    notBefore(), notAfter(), name, keys.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
            return new TestCertificates(keys, sign(builder, keys.getPrivate()));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("make a test CA", e);
        }
    }

    /** A server certificate for localhost and 127.0.0.1 with this serial, signed by this CA. */
    public Issued issue(BigInteger serial, KeyFormat format) {
        try {
            KeyPair server = switch (format) {
                case PKCS8_EC, SEC1_EC -> ec();
                case PKCS8_RSA, PKCS1_RSA -> rsa();
            };
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial, notBefore(),
                    notAfter(), new X500Name("CN=localhost"), server.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            builder.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(certificate));
            return new Issued(sign(builder, keys.getPrivate()), server.getPrivate(), format, keyPem(server, format));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("issue a test certificate", e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Writes the CA certificate as PEM (e.g. {@code ca.crt} of a certs.d directory); creates parent directories. */
    public Path writeCertificate(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, pem(certificate));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A TLS client context that trusts this CA only. */
    public SSLContext clientContext() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("make a client TLS context", e);
        }
    }

    /** The key's PEM text in {@code format}, as openssl writes it. */
    private static String keyPem(KeyPair pair, KeyFormat format) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(pair.getPrivate().getEncoded());
        return switch (format) {
            case PKCS8_EC, PKCS8_RSA -> pem(new PemObject("PRIVATE KEY", info.getEncoded()));
            case PKCS1_RSA -> pem(new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
            case SEC1_EC -> {
                // with the curve and the public key, which the JDK's PKCS#8 encoding leaves out of the inner structure
                ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
                ECPrivateKey sec1 = new ECPrivateKey(256, inner.getKey(),
                        SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded()).getPublicKeyData(),
                        info.getPrivateKeyAlgorithm().getParameters());
                yield pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            }
        };
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(Duration.ofDays(1)));
    }

    private static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
