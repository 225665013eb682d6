package io.compozy.cache.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.InvalidConfigurationException;
import io.compozy.cache.config.TlsSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad {@code redis.tls.*} input fails at load, naming the key, the file and what is wrong, and never
 * the key material or the key's password.
 */
class TlsSettingsTest {

    private static TestCertificates pki;

    @TempDir
    Path temp;

    @BeforeAll
    static void generate() {
        pki = TestCertificates.generate();
    }

    @Test
    void unsetKeysMeanTheJvmTrustStoreAndCheckedNames() {
        TlsSettings tls = TlsSettings.load(ConfigLookup.of(Map.of()));
        assertThat(tls.caFile()).isEmpty();
        assertThat(tls.certFile()).isEmpty();
        assertThat(tls.verifyHostname()).isTrue();
        assertThat(tls.customized()).isFalse();
    }

    @Test
    void aMissingCaFileIsNamed() {
        assertInvalid(Map.of(TlsSettings.CA_FILE, "/nonexistent/ca.pem"), TlsSettings.CA_FILE,
                "'/nonexistent/ca.pem' does not exist or is not a file");
    }

    @Test
    void aFileThatIsNotPemIsNamed() throws IOException {
        Path notPem = Files.writeString(temp.resolve("ca.der"), "this is not a certificate\n");
        assertInvalid(Map.of(TlsSettings.CA_FILE, notPem.toString()), TlsSettings.CA_FILE,
                "'" + notPem + "' holds no PEM certificate");
        // A key where the certificate belongs, and the other way round.
        assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientKey().toString(),
                TlsSettings.KEY_FILE, pki.clientKey().toString()), TlsSettings.CERT_FILE, "holds no PEM certificate");
        assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientCert().toString(),
                TlsSettings.KEY_FILE, pki.clientCert().toString()), TlsSettings.KEY_FILE, "holds no PEM private key");
    }

    /** What {@code openssl pkcs12} writes when exporting from a Liberty key store (docs/security.md). */
    @Test
    void textAroundThePemBlocksIsIgnored() throws IOException {
        Path exported = temp.resolve("exported.pem");
        Files.writeString(exported, "Bag Attributes\n    friendlyName: compozy\nsubject=CN = compozy-cache-test-client\n"
                + Files.readString(pki.clientCert()));
        Path key = temp.resolve("exported-key.pem");
        Files.writeString(key, "Bag Attributes\n    localKeyID: 01\nKey Attributes: <No Attributes>\n"
                + Files.readString(pki.clientKey()));
        TlsSettings tls = TlsSettings.load(ConfigLookup.of(Map.of(TlsSettings.CA_FILE, pki.caFile().toString(),
                TlsSettings.CERT_FILE, exported.toString(), TlsSettings.KEY_FILE, key.toString())));
        assertThat(tls.certFile()).contains(exported);
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificateIsRefused() {
        assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientCert().toString(),
                TlsSettings.KEY_FILE, pki.serverKey().toString()), TlsSettings.KEY_FILE,
                "the key in '" + pki.serverKey() + "' does not match the certificate 'CN=compozy-cache-test-client'");
    }

    @Test
    void anExpiredCertificateIsRefused() {
        assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.expiredClientCert().toString(),
                TlsSettings.KEY_FILE, pki.clientKey().toString()), TlsSettings.CERT_FILE,
                "the certificate 'CN=compozy-cache-test-client' in '" + pki.expiredClientCert() + "' expired on ");
    }

    @Test
    void anEncryptedKeyNeedsItsPassword() {
        for (Path key : new Path[] {pki.clientKeyEncrypted(), pki.clientKeyLegacyEncrypted()}) {
            assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientCert().toString(), TlsSettings.KEY_FILE, key.toString()),
                    TlsSettings.KEY_PASSWORD, "'" + key + "' (redis.tls.key_file) is encrypted; set redis.tls.key_password");
            assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientCert().toString(), TlsSettings.KEY_FILE, key.toString(),
                    TlsSettings.KEY_PASSWORD, "not-" + pki.keyPassword()), TlsSettings.KEY_PASSWORD,
                    "it does not decrypt '" + key + "' (redis.tls.key_file)");
        }
    }

    @Test
    void aCertificateGoesWithItsKey() {
        assertInvalid(Map.of(TlsSettings.CERT_FILE, pki.clientCert().toString()), TlsSettings.KEY_FILE,
                "it is required when redis.tls.cert_file is set");
        assertInvalid(Map.of(TlsSettings.KEY_FILE, pki.clientKey().toString()), TlsSettings.CERT_FILE,
                "it is required when redis.tls.key_file is set");
        assertInvalid(Map.of(TlsSettings.KEY_PASSWORD, "pw"), TlsSettings.KEY_PASSWORD,
                "it is set but redis.tls.key_file is not");
    }

    @Test
    void verifyHostnameIsABoolean() {
        assertInvalid(Map.of(TlsSettings.VERIFY_HOSTNAME, "maybe"), TlsSettings.VERIFY_HOSTNAME,
                "'maybe' is not a boolean; write true or false");
        assertThat(TlsSettings.load(ConfigLookup.of(Map.of(TlsSettings.VERIFY_HOSTNAME, "FALSE"))).verifyHostname())
                .isFalse();
    }

    @Test
    void tlsFilesOnAPlainAddressAreRefusedInDistributedMode() {
        Map<String, String> config = new HashMap<>(Map.of("redis.mode", "distributed",
                CacheSettings.ADDR, "redis://cache.internal:6379/0", TlsSettings.CA_FILE, pki.caFile().toString()));
        assertThatThrownBy(() -> CacheSettings.load(ConfigLookup.of(config)))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessage("Invalid configuration 'redis.addr': 'redis://cache.internal:6379/0' does not use TLS but"
                        + " redis.tls.ca_file is set; write rediss:// to connect with TLS, or unset the redis.tls.* keys");
        config.put(CacheSettings.ADDR, "rediss://cache.internal:6379/0");
        assertThat(CacheSettings.load(ConfigLookup.of(config)).tls().caFile()).contains(pki.caFile());
    }

    @Test
    void theSettingsNameFilesNeverKeyMaterial() throws IOException {
        TlsSettings tls = TlsSettings.load(ConfigLookup.of(Map.of(TlsSettings.CA_FILE, pki.caFile().toString(),
                TlsSettings.CERT_FILE, pki.clientCert().toString(), TlsSettings.KEY_FILE, pki.clientKeyEncrypted().toString(),
                TlsSettings.KEY_PASSWORD, pki.keyPassword())));
        assertThat(tls.toString()).contains(pki.caFile().toString()).doesNotContain(pki.keyPassword())
                .doesNotContain(pki.clientKeyEncrypted().toString());
    }

    private void assertInvalid(final Map<String, String> config, final String key, final String problem) {
        assertThatThrownBy(() -> TlsSettings.load(ConfigLookup.of(config)))
                .isInstanceOf(InvalidConfigurationException.class)
                .satisfies(e -> {
                    assertThat(((InvalidConfigurationException) e).key()).isEqualTo(key);
                    assertThat(e.getMessage()).startsWith("Invalid configuration '" + key + "': ").contains(problem)
                            .doesNotContain(pki.keyPassword()).doesNotContain("MII"); // the start of every base64 RSA key
                });
    }
}
