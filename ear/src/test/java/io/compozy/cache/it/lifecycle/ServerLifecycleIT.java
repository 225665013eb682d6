package io.compozy.cache.it.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.it.support.BackendModeListener;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.testing.TestRedis;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The installed server, started by bin/server as an operator starts it, with only environment
 * variables changed between runs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerLifecycleIT {

    @BeforeEach
    void shippedConfiguration() {
        BackendModeListener.removeDropin();
    }

    @AfterEach
    void stopServer() {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isPresent()) {
            LibertyProcess.stop();
        }
    }

    @Test
    @Order(1)
    void killedServerLeavesNoRedisBehindAndStartsAgain() {
        LibertyProcess.start(Map.of());
        JsonObject status = readyStatus();
        assertThat(status.getString("mode")).isEqualTo("standalone");
        long redisPid = status.getJsonObject("backend").getJsonNumber("pid").longValue();
        ProcessHandle redis = ProcessHandle.of(redisPid).orElseThrow();

        LibertyProcess.kill();

        await("the embedded redis-server exits by itself").atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(100)).until(() -> !redis.isAlive());

        LibertyProcess.start(Map.of());
        JsonObject again = readyStatus();
        assertThat(again.getString("mode")).isEqualTo("standalone");
        assertThat(again.getJsonObject("backend").getJsonNumber("pid").longValue()).isNotEqualTo(redisPid);
    }

    @Test
    @Order(2)
    void anEnvironmentVariableSwitchesTheSameServerToDistributed() {
        RedisAddress external = TestRedis.external();
        Map<String, String> env = new HashMap<>();
        env.put("REDIS_MODE", "distributed");
        env.put("REDIS_ADDR", external.toString());
        external.password().ifPresent(p -> env.put("REDIS_PASSWORD", p.reveal()));

        LibertyProcess.start(env);
        JsonObject status = readyStatus();

        assertThat(status.getString("mode")).isEqualTo("distributed");
        JsonObject backend = status.getJsonObject("backend");
        assertThat(backend.getString("kind")).isEqualTo("redis");
        assertThat(backend.getString("host")).isEqualTo(external.host());
        assertThat(backend.getInt("port")).isEqualTo(external.port());
        assertThat(backend.getInt("database")).isEqualTo(external.database());
        assertThat(backend.containsKey("pid")).isFalse();
        external.password().ifPresent(p -> assertThat(status.toString()).doesNotContain(p.reveal()));
    }

    @Test
    @Order(3)
    void anInvalidModeFailsNamingTheKeyAndTheAllowedValues() {
        LibertyProcess.start(Map.of("REDIS_MODE", "embedded"));
        assertStartFailure("Invalid configuration 'redis.mode': 'embedded' is not a mode; allowed values: "
                + "standalone | distributed");
    }

    @Test
    @Order(4)
    void aMalformedAddressFailsNamingTheKey() {
        LibertyProcess.start(Map.of("REDIS_MODE", "distributed", "REDIS_ADDR", "http://user:hunter2@cache:6379"));
        String messages = assertStartFailure("Invalid configuration 'redis.addr'");
        assertThat(messages).contains("not a Redis address").doesNotContain("hunter2");
    }

    @Test
    @Order(5)
    void anUnreachableRedisFailsNamingTheAddressNeverThePassword() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        LibertyProcess.start(Map.of("REDIS_MODE", "distributed",
                "REDIS_ADDR", "redis://127.0.0.1:" + closedPort + "/0", "REDIS_PASSWORD", "not-logged-secret"));
        String messages = assertStartFailure("Distributed mode: cannot connect to Redis at redis://127.0.0.1:"
                + closedPort + "/0 (redis.addr): Unable to connect to Redis server");
        assertThat(messages).doesNotContain("not-logged-secret");
    }

    /**
     * The adapter's reason is in messages.log, and the application answers 503 pointing there
     * instead of failing obscurely.
     */
    private static String assertStartFailure(final String expected) {
        await().atMost(Duration.ofSeconds(60)).until(() -> LibertyProcess.messages().contains(expected));
        assertThat(LibertyProcess.messages()).contains("Compozy cache did not start: " + expected);
        var response = LibertyProcess.awaitDeployed("/api/admin/status");
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(response.body()).contains("Compozy cache did not start:");
        return LibertyProcess.messages();
    }

    private static JsonObject readyStatus() {
        var response = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> LibertyProcess.get("/api/admin/status"), r -> r.statusCode() == 200);
        return Json.createReader(new StringReader(response.body())).readObject();
    }

}
