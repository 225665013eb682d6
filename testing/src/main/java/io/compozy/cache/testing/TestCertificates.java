package io.compozy.cache.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI written as PEM files into a directory, made fresh for each test run: what an
 * operator's private CA issues, and the usual ways it goes wrong.
 *
 * <ul>
 *   <li>{@link #caFile()}: the trusted CA; {@link #serverCert()} / {@link #serverKey()} for 127.0.0.1 and
 *       localhost, signed by it; {@link #clientCert()} / {@link #clientKey()} (PKCS#8), signed by it.</li>
 *   <li>{@link #untrustedCaFile()}: another CA, which signed nothing the servers present.</li>
 *   <li>{@link #wrongHostCert()} / {@link #wrongHostKey()}: signed by the trusted CA for
 *       {@value #WRONG_HOST} only.</li>
 *   <li>the client key also as PKCS#1, as encrypted PKCS#8 and as OpenSSL's legacy encrypted PEM (password
 *       {@link #keyPassword()}), and an expired client certificate.</li>
 * </ul>
 * Keys are RSA 2048. Bouncy Castle is used as a library instance, never registered as a JVM provider.
 */
public final class TestCertificates {

    public static final String WRONG_HOST = "wrong-host.invalid";

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final Path dir;
    private final String keyPassword;

    private TestCertificates(final Path dir, final String keyPassword) {
        this.dir = dir;
        this.keyPassword = keyPassword;
    }

    /** Generates every file into a new temporary directory. */
    public static TestCertificates generate() {
        try {
            Path dir = Files.createTempDirectory("compozy-test-pki-");
            TestCertificates pki = new TestCertificates(dir, "key-pw-" + java.util.UUID.randomUUID());
            pki.write();
            return pki;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("generating the test certificates failed", e);
        }
    }

    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    public Path untrustedCaFile() {
        return dir.resolve("untrusted-ca.pem");
    }

    public Path serverCert() {
        return dir.resolve("server.pem");
    }

    public Path serverKey() {
        return dir.resolve("server-key.pem");
    }

    public Path wrongHostCert() {
        return dir.resolve("wrong-host.pem");
    }

    public Path wrongHostKey() {
        return dir.resolve("wrong-host-key.pem");
    }

    public Path clientCert() {
        return dir.resolve("client.pem");
    }

    /** PKCS#8, unencrypted ({@code BEGIN PRIVATE KEY}). */
    public Path clientKey() {
        return dir.resolve("client-key.pem");
    }

    /** PKCS#1 ({@code BEGIN RSA PRIVATE KEY}). */
    public Path clientKeyPkcs1() {
        return dir.resolve("client-key-pkcs1.pem");
    }

    /** PKCS#8 encrypted with {@link #keyPassword()} ({@code BEGIN ENCRYPTED PRIVATE KEY}, AES-256). */
    public Path clientKeyEncrypted() {
        return dir.resolve("client-key-encrypted.pem");
    }

    /** OpenSSL's legacy encrypted PEM ({@code Proc-Type: 4,ENCRYPTED}), password {@link #keyPassword()}. */
    public Path clientKeyLegacyEncrypted() {
        return dir.resolve("client-key-legacy.pem");
    }

    public String keyPassword() {
        return keyPassword;
    }

    /** A client certificate of the trusted CA, for the client key, whose validity ended yesterday. */
    public Path expiredClientCert() {
        return dir.resolve("client-expired.pem");
    }

    private void write() throws IOException, GeneralSecurityException, OperatorCreationException {
        Instant now = Instant.now();
        Instant from = now.minus(Duration.ofHours(1));
        Instant until = now.plus(Duration.ofDays(2));

        KeyPair ca = rsa();
        X509Certificate caCert = sign(new X500Name("CN=Compozy Test CA"), ca, new X500Name("CN=Compozy Test CA"),
                ca, from, until, Role.CA, List.of());
        pem(caFile(), caCert);
        KeyPair untrusted = rsa();
        pem(untrustedCaFile(), sign(new X500Name("CN=Untrusted Test CA"), untrusted,
                new X500Name("CN=Untrusted Test CA"), untrusted, from, until, Role.CA, List.of()));

        KeyPair server = rsa();
        pem(serverCert(), sign(new X500Name("CN=127.0.0.1"), server, caName(caCert), ca, from, until, Role.SERVER,
                List.of(new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost"))));
        pem(serverKey(), new JcaPKCS8Generator(server.getPrivate(), null));

        KeyPair wrong = rsa();
        pem(wrongHostCert(), sign(new X500Name("CN=" + WRONG_HOST), wrong, caName(caCert), ca, from, until,
                Role.SERVER, List.of(new GeneralName(GeneralName.dNSName, WRONG_HOST))));
        pem(wrongHostKey(), new JcaPKCS8Generator(wrong.getPrivate(), null));

        KeyPair client = rsa();
        X500Name clientName = new X500Name("CN=compozy-cache-test-client");
        pem(clientCert(), sign(clientName, client, caName(caCert), ca, from, until, Role.CLIENT, List.of()));
        pem(expiredClientCert(), sign(clientName, client, caName(caCert), ca, now.minus(Duration.ofDays(3)),
                now.minus(Duration.ofDays(1)), Role.CLIENT, List.of()));
        pem(clientKey(), new JcaPKCS8Generator(client.getPrivate(), null));
        pem(clientKeyPkcs1(), client.getPrivate());
        pem(clientKeyEncrypted(), new JcaPKCS8Generator(client.getPrivate(),
                new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC).setProvider(BC)
                        .setPassword(keyPassword.toCharArray()).build()));
        try (Writer out = Files.newBufferedWriter(clientKeyLegacyEncrypted(), StandardCharsets.US_ASCII);
             JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(client.getPrivate(), new JcePEMEncryptorBuilder("AES-256-CBC").setProvider(BC)
                    .build(keyPassword.toCharArray()));
        }
    }

    private enum Role { CA, SERVER, CLIENT }

    private static X500Name caName(final X509Certificate ca) {
        return X500Name.getInstance(ca.getSubjectX500Principal().getEncoded());
    }

    private static X509Certificate sign(final X500Name subject, final KeyPair subjectKeys, final X500Name issuer,
                                        final KeyPair issuerKeys, final Instant from, final Instant until,
                                        final Role role, final List<GeneralName> names)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(from), Date.from(until), subject,
                subjectKeys.getPublic());
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.subjectKeyIdentifier, false,
                extensions.createSubjectKeyIdentifier(subjectKeys.getPublic()));
        builder.addExtension(Extension.authorityKeyIdentifier, false,
                extensions.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
        switch (role) {
            case CA -> {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            }
            case SERVER, CLIENT -> {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                builder.addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
                builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                        role == Role.SERVER ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
            }
            default -> throw new IllegalArgumentException(role.toString());
        }
        if (!names.isEmpty()) {
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(GeneralName[]::new)));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate())));
    }

    private static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static void pem(final Path file, final Object object) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
             JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
    }
}
