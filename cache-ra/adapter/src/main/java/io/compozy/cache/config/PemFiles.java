package io.compozy.cache.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads the PEM files of {@code redis.tls.*} with Bouncy Castle: certificates, and private keys as
 * PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1/SEC1 ({@code BEGIN RSA PRIVATE KEY}, {@code BEGIN EC
 * PRIVATE KEY}), encrypted PKCS#8 ({@code BEGIN ENCRYPTED PRIVATE KEY}) and OpenSSL's legacy encrypted
 * PEM ({@code Proc-Type: 4,ENCRYPTED}). Every error names the configuration key and the file, never key
 * material or the password.
 */
final class PemFiles {

    /** Decrypts keys only; used as an instance, never registered JVM-wide (the RAR can be redeployed). */
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private PemFiles() {
    }

    /**
     * Every certificate in the file, in file order, each valid today.
     *
     * @throws InvalidConfigurationException when the file is missing, holds no certificate, or one has expired
     */
    static List<X509Certificate> certificates(final String key, final Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object item : read(key, file)) {
            if (item instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
                } catch (GeneralSecurityException e) {
                    throw new InvalidConfigurationException(key, "'" + file + "' holds a certificate that cannot be"
                            + " read: " + e.getMessage());
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new InvalidConfigurationException(key, "'" + file + "' holds no PEM certificate (a block starting"
                    + " -----BEGIN CERTIFICATE-----)");
        }
        for (X509Certificate certificate : certificates) {
            try {
                certificate.checkValidity();
            } catch (CertificateExpiredException e) {
                throw new InvalidConfigurationException(key, "the certificate '" + certificate.getSubjectX500Principal()
                        + "' in '" + file + "' expired on " + certificate.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw new InvalidConfigurationException(key, "the certificate '" + certificate.getSubjectX500Principal()
                        + "' in '" + file + "' is not valid before " + certificate.getNotBefore().toInstant());
            }
        }
        return certificates;
    }

    /**
     * The one private key in the file, decrypted with {@code password} when it is encrypted.
     *
     * @param passwordKey the configuration key of the password, named when it is missing or wrong
     * @throws InvalidConfigurationException when the file is missing, holds no key, or cannot be decrypted
     */
    static PrivateKey privateKey(final String key, final Path file, final String passwordKey,
                                 final Optional<Secret> password) {
        List<Object> items = read(key, file);
        Object found = items.stream().filter(PemFiles::isKey).findFirst().orElseThrow(() ->
                new InvalidConfigurationException(key, "'" + file + "' holds no PEM private key (a block starting"
                        + " -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY-----, -----BEGIN EC PRIVATE KEY-----"
                        + " or -----BEGIN ENCRYPTED PRIVATE KEY-----)"));
        boolean encrypted = found instanceof PKCS8EncryptedPrivateKeyInfo || found instanceof PEMEncryptedKeyPair;
        if (encrypted && password.isEmpty()) {
            throw new InvalidConfigurationException(passwordKey, "'" + file + "' (" + key + ") is encrypted;"
                    + " set " + passwordKey + " to its password");
        }
        PrivateKeyInfo info;
        try {
            if (found instanceof PKCS8EncryptedPrivateKeyInfo pkcs8) {
                info = pkcs8.decryptPrivateKeyInfo(new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC)
                        .build(password.orElseThrow().reveal().toCharArray()));
            } else if (found instanceof PEMEncryptedKeyPair legacy) {
                info = legacy.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC)
                        .build(password.orElseThrow().reveal().toCharArray())).getPrivateKeyInfo();
            } else if (found instanceof PEMKeyPair pair) {
                info = pair.getPrivateKeyInfo();
            } else {
                info = (PrivateKeyInfo) found;
            }
        } catch (Exception e) {
            // Bouncy Castle's message says which cipher step failed; it never holds the password or the key.
            throw new InvalidConfigurationException(passwordKey, "it does not decrypt '" + file + "' (" + key + ")");
        }
        try {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (IOException e) {
            throw new InvalidConfigurationException(key, "'" + file + "' holds a private key of a kind Java cannot use ("
                    + info.getPrivateKeyAlgorithm().getAlgorithm() + "); use an RSA, EC or Ed25519 key");
        }
    }

    /**
     * Whether {@code key} is the private half of {@code certificate}'s public key: a signature made with one
     * must verify with the other, for every key type.
     */
    static boolean matches(final PrivateKey key, final X509Certificate certificate) {
        PublicKey publicKey = certificate.getPublicKey();
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())
                && !("EC".equals(key.getAlgorithm()) && "ECDSA".equals(publicKey.getAlgorithm()))) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "DSA" -> "SHA256withDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448, EdDSA name their own signature
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean isKey(final Object item) {
        return item instanceof PrivateKeyInfo || item instanceof PEMKeyPair || item instanceof PEMEncryptedKeyPair
                || item instanceof PKCS8EncryptedPrivateKeyInfo;
    }

    private static List<Object> read(final String key, final Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidConfigurationException(key, "'" + file + "' does not exist or is not a file");
        }
        List<Object> items = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                items.add(item);
            }
        } catch (IOException | RuntimeException e) {
            // Only the kind of failure: a parser message could quote the file's (secret) content.
            throw new InvalidConfigurationException(key, "'" + file + "' is not a readable PEM file ("
                    + e.getClass().getSimpleName() + ")");
        }
        return items;
    }
}
