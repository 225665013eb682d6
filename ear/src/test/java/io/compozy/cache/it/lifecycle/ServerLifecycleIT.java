package io.compozy.cache.it.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.TestServer;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.it.support.ProcessCounts;
import com.sleepycat.je.Environment;
import com.sleepycat.je.EnvironmentConfig;
import io.compozy.cache.testing.TestRedis;
import io.compozy.cache.testing.TestTopologies;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The installed server, started by bin/server as an operator starts it, with only environment
 * variables changed between runs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(ShippedServerPerTest.class)
class ServerLifecycleIT {

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
        long newRedisPid = again.getJsonObject("backend").getJsonNumber("pid").longValue();
        assertThat(newRedisPid).isNotEqualTo(redisPid);

        // The embedded server dies under a running Liberty: the adapter starts it again, liveness stays UP
        // and the restart is counted in /metrics.
        assertThat(LibertyProcess.get("/health/live").statusCode()).isEqualTo(200);
        // Liberty's mpMetrics creates an HTTP session on the first /metrics request of a JVM (in the cache, with
        // sessionCache on); that request fails while the server is down, so it is made while the server runs.
        assertThat(MetricsText.scrape().count("compozy_standalone_embedded_restarts_total")).isZero();
        ProcessHandle newRedis = ProcessHandle.of(newRedisPid).orElseThrow();
        newRedis.destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> MetricsText.scrape()
                .count("compozy_standalone_embedded_restarts_total") == 1);
        var live = LibertyProcess.get("/health/live");
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        assertThat(live.body()).contains("\"restarts\":1");
        await().atMost(Duration.ofSeconds(30)).until(() -> LibertyProcess.get("/health/ready").statusCode() == 200);
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
     * A declared JCache cache fails to start on a backend that has started (an expiry too long to count in
     * milliseconds): the backend is closed again. Its redis-server exits (by the PID it logged), the snapshot
     * store's JE environment opens in another process (this one), no thread of the adapter is left, and the
     * failure is reported as any other.
     */
    @Test
    @Order(8)
    void aDeclaredCacheFailingAtStartLeavesNoRedisServerStoreLockOrThreadBehind() throws IOException {
        Path dataDir = Files.createTempDirectory("compozy-failed-jcache-it");
        // A server variable, as the test dropin it-jcache.xml declares its caches (an env var would lose to it);
        // this file sorts after that one, and of two variables of the same name the later file's wins.
        Path dropin = TestServer.serverDir().resolve("configDropins/overrides/it-lifecycle-jcache.xml");
        Files.writeString(dropin, "<server>\n  <variable name=\"compozy.jcache.caches\""
                + " value=\"forever=999999999999999h\"/>\n</server>\n");
        try {
            LibertyProcess.start(Map.of("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.toString()));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> LibertyProcess.messages().contains("Compozy cache did not start:"));
            long jvm = LibertyProcess.jvmPid().orElseThrow();

            List<Long> started = embeddedServerPids(LibertyProcess.messages());
            assertThat(started).as("redis-server processes the start logged").isNotEmpty();
            await("every redis-server the start ran exits: " + started).atMost(Duration.ofSeconds(30))
                    .until(() -> started.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive)
                            .orElse(false)));
            assertThat(ProcessCounts.redisDescendants(jvm)).isEmpty();
            EnvironmentConfig writable = new EnvironmentConfig().setAllowCreate(false)
                    .setConfigParam(EnvironmentConfig.FREE_DISK, Long.toString(64L << 20));
            new Environment(dataDir.toFile(), writable).close(); // EnvironmentLockedException while Liberty holds it
            await("no thread of the adapter is left").atMost(Duration.ofSeconds(30))
                    .until(() -> adapterThreads(jvm), Map::isEmpty);

            assertStartFailure("JCache: the caches declared in compozy.jcache.caches could not be created: "
                    + "java.lang.ArithmeticException: long overflow");
        } finally {
            LibertyProcess.stopIfRunning(); // before the dropin goes: removing it would update the running server
            Files.delete(dropin);
        }
    }

    /**
     * The import at start fails (the source Redis wants a password the adapter was not given): the start
     * fails once, and the application is deployed and answers 503 naming the source, as for any other
     * failed start. Liberty retried a start that threw at every lookup, each retry a whole start with its
     * import again, and the EAR waited behind them: Liberty's 404 page instead of the 503.
     */
    @Test
    @Order(9)
    void aFailedImportFailsTheStartOnceAndTheApplicationAnswers503NamingTheSource() throws IOException {
        Path dataDir = Files.createTempDirectory("compozy-failed-import-it");
        try (EmbeddedRedisServer source = TestRedis.startEmbedded()) {
            String from = "redis://" + source.host() + ":" + source.port();
            LibertyProcess.start(Map.of("REDIS_STANDALONE_IMPORT_FROM", from,
                    "REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.toString()));
            String messages = assertStartFailure("Standalone mode: Import from " + from + "/0 ("
                    + "redis.standalone.import.from) into the embedded server failed: the source refused the login");
            assertThat(messages).doesNotContain(source.password().reveal());
        }
    }

    /** The pids redis-server reported at each start ({@code ... pid=1234, just started}) in messages.log. */
    private static List<Long> embeddedServerPids(final String messages) {
        return Pattern.compile("pid=(\\d+), just started").matcher(messages).results()
                .map(m -> Long.parseLong(m.group(1))).distinct().toList();
    }

    /** The JVM's threads of the adapter's kinds: Redisson's, the adapter's own, JE's. */
    private static Map<String, Long> adapterThreads(final long jvm) {
        Map<String, Long> threads = new HashMap<>(ProcessCounts.threadNames(jvm));
        threads.keySet().removeIf(name -> Stream.of("redisson", "compozy", "Checkpointer", "INCompressor", "Cleaner-",
                "Evictor", "DataCorruptionV").noneMatch(name::startsWith));
        return threads;
    }

    /**
     * A Redis password and an encryption key are set, real operations and snapshots run, and neither
     * secret appears in any log file, in /metrics, /health or the status: in standalone mode with
     * encrypted snapshots, then in distributed mode on a Redis that requires the password, then in
     * standalone mode again. The data moves with each switch by one configuration key and a restart
     * (docs/migration.md): a resource written in each mode is read back in the next.
     */
    @Test
    @Order(6)
    void noSecretReachesTheLogsMetricsHealthOrStatus() throws Exception {
        byte[] keyBytes = new byte[32];
        new SecureRandom().nextBytes(keyBytes);
        String encryptionKey = Base64.getEncoder().encodeToString(keyBytes);
        String unusedPassword = "standalone-pw-" + UUID.randomUUID();
        Path dataDir = Files.createTempDirectory("compozy-secrets-it");
        List<String> outputs = new ArrayList<>();

        LibertyProcess.start(Map.of("REDIS_PASSWORD", unusedPassword,
                "REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY", encryptionKey,
                "REDIS_STANDALONE_PERSISTENCE_AOF", "off", // the AOF is plaintext: refused with a key
                "REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.toString(),
                "REDIS_STANDALONE_PERSISTENCE_SLOW_SNAPSHOT_THRESHOLD", "1ms"));
        assertThat(readyStatus().getJsonObject("persistence").toString()).contains("\"encrypted\":true");
        // The append-only file off says "off", in the status and in readiness, rather than leaving a field out.
        assertThat(readyStatus().getJsonObject("persistence").getJsonObject("appendOnly").toString())
                .isEqualTo("{\"enabled\":false,\"fsync\":\"off\"}");
        assertThat(LibertyProcess.readinessCheck("compozy-cache-persistence").getJsonObject("data").getString("aof"))
                .isEqualTo("off");
        String writtenStandalone = putMarker("standalone");
        exerciseAndCollect(outputs);
        assertThat(Api.adminPost("admin/snapshots", "").statusCode()).isEqualTo(201);
        outputs.add(Api.adminGet("admin/snapshots").body());
        LibertyProcess.stop(); // the final snapshot, with its log lines
        assertThat(logs()).contains("Snapshot slow: generation").contains("Final snapshot before stop");

        try (EmbeddedRedisServer redis = TestRedis.startEmbedded()) {
            String password = redis.password().reveal();
            // The empty Redis gets the encrypted standalone data, imported with its key (docs/migration.md).
            LibertyProcess.start(Map.of("REDIS_MODE", "distributed",
                    "REDIS_ADDR", "redis://" + redis.host() + ":" + redis.port() + "/0", "REDIS_PASSWORD", password,
                    "REDIS_DISTRIBUTED_IMPORT_DATA_DIR", dataDir.toString(),
                    "REDIS_DISTRIBUTED_IMPORT_ENCRYPTION_KEY", encryptionKey));
            assertThat(readyStatus().getString("mode")).isEqualTo("distributed");
            assertThat(logs()).contains("Imported generation");
            assertMarker(writtenStandalone);
            String writtenDistributed = putMarker("distributed");
            exerciseAndCollect(outputs);
            LibertyProcess.stop();

            // And back: a new standalone data_dir is filled from that Redis at start (redis.standalone.import.from).
            Path returnDir = Files.createTempDirectory("compozy-return-it");
            LibertyProcess.start(Map.of(
                    "REDIS_STANDALONE_IMPORT_FROM", "redis://" + redis.host() + ":" + redis.port(),
                    "REDIS_STANDALONE_IMPORT_PASSWORD", password,
                    "REDIS_STANDALONE_PERSISTENCE_DATA_DIR", returnDir.toString()));
            assertThat(readyStatus().getString("mode")).isEqualTo("standalone");
            assertThat(logs()).contains("Imported the Redis at redis://" + redis.host() + ":" + redis.port());
            assertMarker(writtenStandalone);
            assertMarker(writtenDistributed);
            exerciseAndCollect(outputs);
            LibertyProcess.stop();
            String everything = String.join("\n", outputs) + "\n" + logs();
            for (String secret : List.of(password, unusedPassword, encryptionKey, encryptionKey.substring(0, 12),
                    io.compozy.cache.it.support.AdminCredentials.password())) {
                assertThat(everything).doesNotContain(secret);
            }
        }
    }

    /**
     * The installed server switched to a Redis Cluster, then to a Redis Sentinel group, by environment
     * variables alone (docs/deployment.md's server.env examples): every kind of store answers and the
     * sample workflow runs. The topologies are the harness's (or those REDIS_CLUSTER_NODES /
     * REDIS_SENTINEL_NODES name).
     */
    @Test
    @Order(7)
    void environmentVariablesAloneRunTheServerOnAClusterAndOnSentinel() throws Exception {
        TestTopologies.Cluster cluster = TestTopologies.cluster();
        Map<String, String> env = new HashMap<>(Map.of("MODE", "distributed", "REDIS_CLUSTER_NODES", cluster.nodeList()));
        cluster.password().ifPresent(p -> env.put("REDIS_PASSWORD", p));
        LibertyProcess.start(env);
        assertThat(readyStatus().getJsonObject("topology").getString("kind")).isEqualTo("cluster");
        servesEveryStoreAndTheSampleWorkflow();
        LibertyProcess.stop();

        TestTopologies.Sentinel sentinel = TestTopologies.sentinel();
        Map<String, String> sentinelEnv = new HashMap<>(Map.of("MODE", "distributed",
                "REDIS_SENTINEL_NODES", sentinel.sentinelList(), "REDIS_SENTINEL_MASTER", sentinel.masterName()));
        sentinel.password().ifPresent(p -> sentinelEnv.put("REDIS_PASSWORD", p));
        sentinel.sentinelPassword().ifPresent(p -> sentinelEnv.put("REDIS_SENTINEL_PASSWORD", p));
        LibertyProcess.start(sentinelEnv);
        assertThat(readyStatus().getJsonObject("topology").getString("kind")).isEqualTo("sentinel");
        servesEveryStoreAndTheSampleWorkflow();
        LibertyProcess.stop();
    }

    private static void servesEveryStoreAndTheSampleWorkflow() throws IOException {
        exerciseAndCollect(new ArrayList<>());
        String project = "env" + UUID.randomUUID().toString().substring(0, 8);
        String sample = Files.readString(Path.of(System.getProperty("basedir", "."))
                .resolve("../docs/examples/workflows/demo.json"));
        assertThat(Api.post("workflows/" + project, sample).statusCode()).isEqualTo(200);
        var started = Api.post("workflows/" + project + "/greet/executions", "{\"input\":\"hello world\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        String execId = Api.json(started).getString("executionId");
        JsonObject state = await().atMost(Duration.ofSeconds(60)).until(() -> Api.json(Api.get("executions/" + execId)),
                s -> List.of("succeeded", "failed").contains(s.getString("status")));
        assertThat(state.getString("status")).as(state.toString()).isEqualTo("succeeded");
        assertThat(state.getJsonObject("output").getString("text")).isEqualTo("HELLO! YOU SAID: HELLO WORLD");
    }

    /** Writes a resource whose path and body name the mode it was written in; returns its path. */
    private static String putMarker(final String mode) {
        String path = "resources/moves/agent/" + mode + "-" + UUID.randomUUID();
        assertThat(Api.put(path, "{\"writtenIn\":\"" + mode + "\"}").statusCode()).isEqualTo(200);
        return path;
    }

    private static void assertMarker(final String path) {
        var response = Api.get(path);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        assertThat(response.body()).as(path).contains("\"writtenIn\"");
    }

    /** REST operations on every kind of store, then the status, metrics and health outputs (also used by TlsIT). */
    static void exerciseAndCollect(final List<String> outputs) {
        String id = UUID.randomUUID().toString();
        assertThat(Api.post("memory/secrets-" + id + "/messages", "{\"messages\":[{\"t\":1}],\"tokens\":1}").statusCode())
                .isEqualTo(200);
        assertThat(Api.put("resources/secrets/agent/" + id, "{\"name\":\"a\"}").statusCode()).isEqualTo(200);
        assertThat(Api.post("locks/secrets-" + id, "{\"ttlMs\":1000}").statusCode()).isEqualTo(201);
        assertThat(Api.send(Api.request("webhooks/secrets").header("X-Idempotency-Key", id)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")))
                .statusCode()).isEqualTo(202);
        for (String path : List.of("/api/admin/status", "/metrics", "/health", "/health/ready", "/health/live")) {
            var response = LibertyProcess.get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(200);
            outputs.add(response.body());
        }
    }

    /** Every file under the server's logs directory: messages, console, trace and FFDC files. */
    static String logs() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(TestServer.serverDir().resolve("logs"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                all.append(new String(Files.readAllBytes(file), StandardCharsets.UTF_8)).append('\n');
            }
        }
        return all.toString();
    }

    /**
     * The adapter's reason is in messages.log, and the application answers 503 pointing there
     * instead of failing obscurely.
     */
    static String assertStartFailure(final String expected) {
        await().atMost(Duration.ofSeconds(60)).until(() -> LibertyProcess.messages().contains(expected));
        assertThat(LibertyProcess.messages()).contains("Compozy cache did not start: " + expected);
        var response = LibertyProcess.awaitDeployed("/api/admin/status");
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(response.body()).contains("Compozy cache did not start:");
        // Readiness says DOWN with the reason; liveness stays UP (a restart would not fix a configuration).
        var ready = LibertyProcess.get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        JsonObject cache = Json.createReader(new StringReader(ready.body())).readObject().getJsonArray("checks")
                .getValuesAs(JsonObject.class).stream().filter(c -> c.getString("name").equals("compozy-cache"))
                .findFirst().orElseThrow(() -> new AssertionError(ready.body()));
        assertThat(cache.getString("status")).isEqualTo("DOWN");
        assertThat(cache.getJsonObject("data").getString("reason")).contains("not available");
        assertThat(LibertyProcess.get("/health/live").statusCode()).isEqualTo(200);
        // Started once, whatever the requests since: a failed start is not tried again at every lookup.
        assertThat(LibertyProcess.messages().lines().filter(line -> line.contains("CacheResourceAdapter")
                && line.contains("Compozy cache did not start:")).count()).as("failed starts logged").isEqualTo(1);
        return LibertyProcess.messages();
    }

    static JsonObject readyStatus() {
        var response = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> LibertyProcess.get("/api/admin/status"), r -> r.statusCode() == 200);
        return Json.createReader(new StringReader(response.body())).readObject();
    }

}
