package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.testing.TestCertificates;
import io.mirrorball.testing.TestCertificates.KeyFormat;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** PEM files as certbot, cert-manager and openssl write them become a key store; broken ones name their key. */
final class PemCredentialsTest {
    private static final TestCertificates CA = TestCertificates.authority();

    @ParameterizedTest
    @EnumSource(KeyFormat.class)
    void parse_everyKeyFormat_holdsKeyAndChain(KeyFormat format) throws Exception {
        TestCertificates.Issued issued = CA.issue(BigInteger.valueOf(7), format);
        String chain = issued.certificatePem() + new String(pem(CA.certificate()), StandardCharsets.US_ASCII);
        PemCredentials credentials = PemCredentials.parse(ascii(chain), ascii(issued.keyPem()));
        assertEquals(BigInteger.valueOf(7), credentials.certificate().getSerialNumber());
        KeyStore store = credentials.keyStore();
        String alias = store.aliases().nextElement();
        assertTrue(store.isKeyEntry(alias));
        assertEquals(2, store.getCertificateChain(alias).length);
        assertEquals(secret(issued.key()), secret(store.getKey(alias, PemCredentials.KEY_STORE_PASSWORD.toCharArray())));
        assertTrue(credentials.describe().startsWith("serial=7 "), credentials.describe());
    }

    /** What openssl writes: PKCS#8 from req -newkey, "EC PARAMETERS" + SEC1 from ecparam, PKCS#1 from genrsa -traditional. */
    @ParameterizedTest
    @ValueSource(strings = {
            "req -x509 -newkey rsa:2048 -nodes -keyout KEY -out CERT -subj /CN=localhost -days 1",
            "ecparam -name prime256v1 -genkey -out KEY && req -new -x509 -key KEY -out CERT -subj /CN=localhost -days 1",
            "genrsa -traditional -out KEY 2048 && req -new -x509 -key KEY -out CERT -subj /CN=localhost -days 1"})
    void parse_opensslOutput_isRead(String commands, @TempDir Path tmp) throws Exception {
        Path key = tmp.resolve("key.pem");
        Path certificate = tmp.resolve("cert.pem");
        for (String command : commands.split(" && ")) {
            List<String> args = new ArrayList<>(List.of("openssl"));
            for (String arg : command.split(" ")) {
                args.add(arg.equals("KEY") ? key.toString() : arg.equals("CERT") ? certificate.toString() : arg);
            }
            openssl(args);
        }
        PemCredentials credentials = PemCredentials.parse(Files.readAllBytes(certificate), Files.readAllBytes(key));
        assertEquals("CN=localhost", credentials.certificate().getSubjectX500Principal().getName());
    }

    @Test
    void parse_keyOfAnotherCertificate_refusedNamingKey() {
        TestCertificates.Issued one = CA.issue(BigInteger.ONE, KeyFormat.PKCS8_EC);
        TestCertificates.Issued two = CA.issue(BigInteger.TWO, KeyFormat.PKCS8_EC);
        PemCredentials.InvalidPemException e = assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(two.certificatePem()), ascii(one.keyPem())));
        assertEquals("http.tls.key", e.key());
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
    }

    @Test
    void parse_halfWrittenCertificate_refusedNamingCertificate() {
        TestCertificates.Issued issued = CA.issue(BigInteger.ONE, KeyFormat.PKCS8_EC);
        String pem = issued.certificatePem();
        PemCredentials.InvalidPemException e = assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(pem.substring(0, pem.length() / 2)), ascii(issued.keyPem())));
        assertEquals("http.tls.certificate", e.key());
    }

    @Test
    void parse_noCertificateOrNoKey_refusedNamingFile() {
        TestCertificates.Issued issued = CA.issue(BigInteger.ONE, KeyFormat.SEC1_EC);
        assertEquals("http.tls.certificate", assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(issued.keyPem()), ascii(issued.keyPem()))).key());
        assertEquals("http.tls.key", assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(issued.certificatePem()), ascii(issued.certificatePem()))).key());
        assertEquals("http.tls.key", assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(issued.certificatePem()), new byte[0])).key());
    }

    @Test
    void parse_encryptedKey_refusedSayingSo(@TempDir Path tmp) throws Exception {
        TestCertificates.Issued issued = CA.issue(BigInteger.ONE, KeyFormat.PKCS8_EC);
        Path plain = Files.writeString(tmp.resolve("key.pem"), issued.keyPem());
        Path encrypted = tmp.resolve("encrypted.pem");
        openssl(List.of("openssl", "pkcs8", "-topk8", "-in", plain.toString(), "-out", encrypted.toString(),
                "-passout", "pass:secret"));
        assertTrue(Files.readString(encrypted).contains("ENCRYPTED PRIVATE KEY"));
        PemCredentials.InvalidPemException e = assertThrows(PemCredentials.InvalidPemException.class,
                () -> PemCredentials.parse(ascii(issued.certificatePem()), Files.readAllBytes(encrypted)));
        assertEquals("http.tls.key", e.key());
        assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
    }

    /** The secret number of an EC or RSA private key (encodings of one key may differ). */
    private static BigInteger secret(java.security.Key key) {
        return key instanceof java.security.interfaces.ECPrivateKey ec ? ec.getS()
                : ((java.security.interfaces.RSAPrivateKey) key).getPrivateExponent();
    }

    private static void openssl(List<String> command) throws Exception {
        Process openssl = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, openssl.exitValue(), String.join(" ", command) + "\n" + output);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] pem(X509Certificate certificate) throws Exception {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificate);
        }
        return ascii(text.toString());
    }
}
