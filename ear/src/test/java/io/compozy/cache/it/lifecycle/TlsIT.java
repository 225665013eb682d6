package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.lifecycle.ServerLifecycleIT.assertStartFailure;
import static io.compozy.cache.it.lifecycle.ServerLifecycleIT.exerciseAndCollect;
import static io.compozy.cache.it.lifecycle.ServerLifecycleIT.logs;
import static io.compozy.cache.it.lifecycle.ServerLifecycleIT.readyStatus;
import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.testing.TestCertificates;
import io.compozy.cache.testing.TlsRedisServer;
import io.compozy.cache.testing.TlsTestServers;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The installed server in distributed mode on Redis servers that speak TLS only, with a private CA made
 * for this run: one start per configuration (the keys are read once, at start), set by environment
 * variables as an operator would.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(ShippedServerPerTest.class)
class TlsIT {

    /** This suite's own database index on its own servers. */
    private static final int DATABASE = 13;

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

    /**
     * The private CA and a client certificate with an encrypted key: every store works over TLS, the status
     * says TLS, and neither the key's password nor any line of key material reaches a log, the status,
     * /metrics or /health.
     */
    @Test
    @Order(1)
    void aPrivateCaAndAClientCertificateCarryEveryStoreWithoutLeakingTheKey() throws Exception {
        Map<String, String> env = environment(mutual);
        env.put("REDIS_TLS_CERT_FILE", pki.clientCert().toString());
        env.put("REDIS_TLS_KEY_FILE", pki.clientKeyEncrypted().toString());
        env.put("REDIS_TLS_KEY_PASSWORD", pki.keyPassword());
        LibertyProcess.start(env);

        JsonObject status = readyStatus();
        assertThat(status.getString("mode")).isEqualTo("distributed");
        JsonObject backend = status.getJsonObject("backend");
        assertThat(backend.getBoolean("tls")).isTrue();
        assertThat(backend.getInt("port")).isEqualTo(mutual.port());
        assertThat(backend.getInt("database")).isEqualTo(DATABASE);
        List<String> outputs = new ArrayList<>();
        outputs.add(status.toString());
        exerciseAndCollect(outputs);
        LibertyProcess.stop();

        String everything = String.join("\n", outputs) + "\n" + logs();
        assertThat(everything).doesNotContain(pki.keyPassword()).doesNotContain(mutual.password());
        for (Path keyFile : List.of(pki.clientKeyEncrypted(), pki.clientKey())) {
            for (String line : Files.readAllLines(keyFile)) {
                if (!line.startsWith("-----") && line.length() >= 16) {
                    assertThat(everything).as("a line of " + keyFile.getFileName()).doesNotContain(line);
                }
            }
        }
    }

    @Test
    @Order(2)
    void anUnknownCaStopsTheAdapterWithTheAddressAndTheReason() {
        Map<String, String> env = environment(mutual);
        env.put("REDIS_TLS_CA_FILE", pki.untrustedCaFile().toString());
        env.put("REDIS_TLS_CERT_FILE", pki.clientCert().toString());
        env.put("REDIS_TLS_KEY_FILE", pki.clientKeyEncrypted().toString());
        env.put("REDIS_TLS_KEY_PASSWORD", pki.keyPassword());
        LibertyProcess.start(env);
        String refusal = assertRefused("Distributed mode: TLS handshake with Redis at " + mutual.address(DATABASE)
                + " (redis.addr) failed: unknown CA: the server's certificate is not signed by the CAs in"
                + " redis.tls.ca_file (" + pki.untrustedCaFile() + ")");
        // A start that fails shows no secret either: messages.log, the 503 problem body, readiness.
        assertThat(refusal).doesNotContain(pki.keyPassword()).doesNotContain(mutual.password());
    }

    @Test
    @Order(3)
    void aCertificateForAnotherNameStopsTheAdapterWhileNamesAreChecked() {
        LibertyProcess.start(environment(wrongName));
        assertRefused("Distributed mode: TLS handshake with Redis at " + wrongName.address(DATABASE)
                + " (redis.addr) failed: hostname mismatch: the server's certificate does not name 127.0.0.1");
    }

    @Test
    @Order(4)
    void noClientCertificateStopsTheAdapterWhenTheServerRequiresOne() {
        LibertyProcess.start(environment(mutual));
        String messages = assertRefused("Distributed mode: TLS handshake with Redis at "
                + mutual.address(DATABASE) + " (redis.addr) failed: the server requires a client certificate"
                + " (tls-auth-clients yes): set redis.tls.cert_file and redis.tls.key_file");
        assertThat(messages).doesNotContain(mutual.password());
    }

    @Test
    @Order(5)
    void verifyHostnameFalseAcceptsAnotherNameFromTheTrustedCaAndWarnsAtStart() {
        Map<String, String> env = environment(wrongName);
        env.put("REDIS_TLS_VERIFY_HOSTNAME", "false");
        LibertyProcess.start(env);
        JsonObject status = readyStatus();
        assertThat(status.getJsonObject("backend").getBoolean("tls")).isTrue();
        assertThat(status.getString("ping")).isEqualTo("ok");
        assertThat(LibertyProcess.messages()).contains("redis.tls.verify_hostname is false: the Redis server's"
                + " certificate is checked against the trusted CAs but not against the host name");
        List<String> outputs = new ArrayList<>();
        exerciseAndCollect(outputs);
        assertThat(String.join("\n", outputs) + LibertyProcess.messages()).doesNotContain(wrongName.password());
    }

    /**
     * The adapter did not start (messages.log, 503 problem+json, readiness DOWN), and the status and readiness
     * give the reason itself, not only a pointer to the log.
     */
    private static String assertRefused(final String reason) {
        String messages = assertStartFailure(reason);
        String statusBody = LibertyProcess.get("/api/admin/status").body();
        String readinessBody = LibertyProcess.get("/health/ready").body();
        JsonObject problem = json(statusBody);
        assertThat(problem.getString("detail"))
                .startsWith("The cache is not available: Compozy cache did not start: " + reason);
        JsonObject cache = json(LibertyProcess.get("/health/ready").body()).getJsonArray("checks")
                .getValuesAs(JsonObject.class).stream().filter(c -> c.getString("name").equals("compozy-cache"))
                .findFirst().orElseThrow();
        assertThat(cache.getJsonObject("data").getString("reason")).contains(reason);
        return messages + "\n" + statusBody + "\n" + readinessBody;
    }

    private static JsonObject json(final String body) {
        return Json.createReader(new StringReader(body)).readObject();
    }

    /** Distributed mode on {@code server}, trusting the run's CA, without a client certificate. */
    private static Map<String, String> environment(final TlsRedisServer server) {
        Map<String, String> env = new HashMap<>();
        env.put("REDIS_MODE", "distributed");
        env.put("REDIS_ADDR", server.address(DATABASE));
        env.put("REDIS_PASSWORD", server.password());
        env.put("REDIS_TLS_CA_FILE", pki.caFile().toString());
        return env;
    }
}
