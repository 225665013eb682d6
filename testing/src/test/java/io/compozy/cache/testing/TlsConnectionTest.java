package io.compozy.cache.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.redisson.api.RedissonClient;

/**
 * The adapter's distributed-mode start ({@link CacheBackend#start}) against real redis-servers that speak
 * TLS only, with a private CA: what works, and that each way a handshake is refused fails the start with
 * the address and the reason in the message (never the key's password).
 */
class TlsConnectionTest {

    private static TlsTestServers servers;
    private static TestCertificates pki;
    /** {@code tls-auth-clients yes}. */
    private static TlsRedisServer mutual;
    /** Presents a certificate for another host name. */
    private static TlsRedisServer wrongName;

    @BeforeAll
    static void startServers() {
        servers = TlsTestServers.start();
        pki = servers.pki();
        mutual = servers.mutual();
        wrongName = servers.wrongName();
    }

    @AfterAll
    static void stopServers() {
        if (servers != null) {
            servers.close();
        }
    }

    /** Every PEM form of the client key: PKCS#8, PKCS#1, encrypted PKCS#8, OpenSSL's legacy encryption. */
    @ParameterizedTest
    @ValueSource(strings = {"client-key.pem", "client-key-pkcs1.pem", "client-key-encrypted.pem", "client-key-legacy.pem"})
    void theRightCaAndAClientCertificateCarryCommandsOverTls(final String keyFile) {
        Map<String, String> config = clientCertificate(pki.caFile().getParent().resolve(keyFile));
        if (keyFile.contains("encrypted") || keyFile.contains("legacy")) {
            config.put(TlsSettings.KEY_PASSWORD, pki.keyPassword());
        }
        try (CacheBackend backend = start(mutual.address(0), config)) {
            assertThat(backend.info().tls()).isTrue();
            RedissonClient redis = backend.client();
            String key = "tls-test-" + UUID.randomUUID();
            redis.getBucket(key).set("over TLS");
            assertThat(redis.<String>getBucket(key).get()).isEqualTo("over TLS");
            redis.getBucket(key).delete();
            assertThat(backend.ping()).isTrue();
        }
    }

    @Test
    void theServerIsReachableByEveryNameItsCertificateHolds() {
        try (CacheBackend backend = start(mutual.addressByName(0), clientCertificate(pki.clientKey()))) {
            assertThat(backend.ping()).isTrue();
        }
    }

    @Test
    void anUnknownCaFailsTheStartNamingTheAddressAndTheReason() {
        Map<String, String> config = clientCertificate(pki.clientKey());
        config.put(TlsSettings.CA_FILE, pki.untrustedCaFile().toString());
        assertThatThrownBy(() -> start(mutual.address(0), config))
                .isInstanceOf(CacheBackend.BackendStartException.class)
                .hasMessage("Distributed mode: TLS handshake with Redis at " + mutual.address(0) + " (redis.addr) failed:"
                        + " unknown CA: the server's certificate is not signed by the CAs in redis.tls.ca_file ("
                        + pki.untrustedCaFile() + ")");
    }

    @Test
    void withoutACaFileOnlyTheJvmTrustStoreIsTrusted() {
        assertThatThrownBy(() -> start(wrongName.address(0), new HashMap<>()))
                .hasMessageContaining("failed: unknown CA: the server's certificate is not signed by the JVM's trust"
                        + " store (redis.tls.ca_file is not set)");
    }

    @Test
    void aCertificateForAnotherHostFailsTheStartWhileNamesAreChecked() {
        Map<String, String> config = new HashMap<>(Map.of(TlsSettings.CA_FILE, pki.caFile().toString()));
        assertThatThrownBy(() -> start(wrongName.address(0), config))
                .hasMessageStartingWith("Distributed mode: TLS handshake with Redis at " + wrongName.address(0)
                        + " (redis.addr) failed: hostname mismatch: the server's certificate does not name 127.0.0.1");
    }

    @Test
    void onClusterAndSentinelTheFirstSeedOrSentinelIsCheckedAndNamedByItsKey() {
        String seed = "rediss://" + TlsRedisServer.HOST + ":" + wrongName.port();
        for (String key : List.of(io.compozy.cache.config.TopologySettings.CLUSTER_NODES,
                io.compozy.cache.config.TopologySettings.SENTINEL_NODES)) {
            Map<String, String> config = new HashMap<>(Map.of("redis.mode", "distributed", key, seed,
                    io.compozy.cache.config.TopologySettings.SENTINEL_MASTER, "mymaster",
                    CacheSettings.PASSWORD, wrongName.password(), TlsSettings.CA_FILE, pki.caFile().toString()));
            if (key.equals(io.compozy.cache.config.TopologySettings.CLUSTER_NODES)) {
                config.remove(io.compozy.cache.config.TopologySettings.SENTINEL_MASTER);
            }
            assertThatThrownBy(() -> CacheBackend.start(CacheSettings.load(ConfigLookup.of(config)), Runnable::run))
                    .as(key).hasMessageStartingWith("Distributed mode: TLS handshake with Redis at " + seed)
                    .hasMessageContaining("(" + key + ") failed: hostname mismatch: the server's certificate does not"
                            + " name 127.0.0.1")
                    .hasMessageNotContaining(wrongName.password());
        }
    }

    @Test
    void aMissingClientCertificateFailsTheStartWhenTheServerRequiresOne() {
        Map<String, String> config = new HashMap<>(Map.of(TlsSettings.CA_FILE, pki.caFile().toString()));
        assertThatThrownBy(() -> start(mutual.address(0), config))
                .hasMessage("Distributed mode: TLS handshake with Redis at " + mutual.address(0) + " (redis.addr)"
                        + " failed: the server requires a client certificate (tls-auth-clients yes): set"
                        + " redis.tls.cert_file and redis.tls.key_file");
    }

    @Test
    void aPlainRedisOnARedissAddressIsNamedAsSuch() {
        try (EmbeddedRedisServer plain = TestRedis.startEmbedded()) {
            String address = "rediss://" + plain.host() + ":" + plain.port() + "/0";
            Map<String, String> config = new HashMap<>(Map.of("redis.mode", "distributed", CacheSettings.ADDR, address,
                    CacheSettings.PASSWORD, plain.password().reveal()));
            assertThatThrownBy(() -> CacheBackend.start(CacheSettings.load(ConfigLookup.of(config)), Runnable::run))
                    .hasMessageStartingWith("Distributed mode: TLS handshake with Redis at " + address
                            + " (redis.addr) failed: no answer to the TLS handshake within 5 s: is " + plain.port()
                            + " the server's tls-port, not its plain port?")
                    .hasMessageNotContaining(plain.password().reveal());
        }
    }

    @Test
    void verifyHostnameFalseAcceptsTheWrongNameButStillTheCaAndWarns() {
        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(final LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(TlsSettings.class.getName());
        logger.addHandler(handler);
        try {
            Map<String, String> config = new HashMap<>(Map.of(TlsSettings.CA_FILE, pki.caFile().toString(),
                    TlsSettings.VERIFY_HOSTNAME, "false"));
            try (CacheBackend backend = start(wrongName.address(0), config)) {
                assertThat(backend.ping()).isTrue();
            }
            assertThat(records).anySatisfy(record -> {
                assertThat(record.getLevel()).isEqualTo(Level.WARNING);
                assertThat(record.getMessage()).startsWith("redis.tls.verify_hostname is false");
            });
            // The chain is still checked: a CA nobody configured is refused even without name checks.
            config.put(TlsSettings.CA_FILE, pki.untrustedCaFile().toString());
            assertThatThrownBy(() -> start(wrongName.address(0), config)).hasMessageContaining("failed: unknown CA");
        } finally {
            logger.removeHandler(handler);
        }
    }

    /** redis.standalone.import.from over TLS: the same redis.tls.* keys, the same checks, the same reasons. */
    @Test
    void aStandaloneImportFromATlsRedisUsesTheTlsKeysAndChecksTheName(@TempDir final Path root) {
        String key = "tls-import-" + UUID.randomUUID();
        try (CacheBackend source = start(mutual.address(0), clientCertificate(pki.clientKey()))) {
            source.client().getBucket(key, org.redisson.client.codec.StringCodec.INSTANCE).set("copied over TLS");
        }
        try {
            Map<String, String> config = clientCertificate(pki.clientKey());
            try (CacheBackend standalone = startImporting(root.resolve("one"), mutual, config)) {
                assertThat(standalone.client().getBucket(key, org.redisson.client.codec.StringCodec.INSTANCE).get())
                        .isEqualTo("copied over TLS");
            }
            // A certificate for another host: refused while names are checked, named as such.
            Map<String, String> caOnly = new HashMap<>(Map.of(TlsSettings.CA_FILE, pki.caFile().toString()));
            assertThatThrownBy(() -> startImporting(root.resolve("two"), wrongName, caOnly))
                    .isInstanceOf(CacheBackend.BackendStartException.class)
                    .hasMessageContaining("TLS handshake with " + wrongName.address(0))
                    .hasMessageContaining("hostname mismatch: the server's certificate does not name 127.0.0.1")
                    .hasMessageNotContaining(wrongName.password());
        } finally {
            try (CacheBackend source = start(mutual.address(0), clientCertificate(pki.clientKey()))) {
                source.client().getBucket(key).delete();
            }
        }
    }

    private static CacheBackend startImporting(final Path root, final TlsRedisServer from,
                                               final Map<String, String> tls) {
        Map<String, String> config = new HashMap<>(tls);
        config.put("redis.mode", "standalone");
        config.put(CacheSettings.WORK_DIR, root.resolve("work").toString());
        config.put(io.compozy.cache.config.PersistenceSettings.ENABLED, "true");
        config.put(io.compozy.cache.config.PersistenceSettings.DATA_DIR, root.resolve("data").toString());
        config.put(io.compozy.cache.config.ImportSettings.STANDALONE_FROM, from.address(0));
        config.put(io.compozy.cache.config.ImportSettings.STANDALONE_PASSWORD, from.password());
        ConfigLookup lookup = ConfigLookup.of(config);
        CacheSettings settings = CacheSettings.load(lookup);
        return CacheBackend.start(settings, io.compozy.cache.config.ImportSettings.load(lookup,
                io.compozy.cache.config.Mode.STANDALONE, settings.standalone().persistence()), task -> {
                    Thread thread = new Thread(task, "test-redis-output"); // follows redis-server's output
                    thread.setDaemon(true);
                    thread.start();
                });
    }

    private static Map<String, String> clientCertificate(final Path key) {
        assertThat(Files.isRegularFile(key)).as(key.toString()).isTrue();
        return new HashMap<>(Map.of(TlsSettings.CA_FILE, pki.caFile().toString(),
                TlsSettings.CERT_FILE, pki.clientCert().toString(), TlsSettings.KEY_FILE, key.toString()));
    }

    private static CacheBackend start(final String address, final Map<String, String> tls) {
        Map<String, String> config = new HashMap<>(tls);
        config.put("redis.mode", "distributed");
        config.put(CacheSettings.ADDR, address);
        config.put(CacheSettings.PASSWORD, passwordFor(address));
        return CacheBackend.start(CacheSettings.load(ConfigLookup.of(config)), Runnable::run);
    }

    private static String passwordFor(final String address) {
        return address.endsWith(":" + mutual.port() + "/0") ? mutual.password() : wrongName.password();
    }
}
