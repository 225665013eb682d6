package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standalone persistence on the installed server, through real restarts and real kills: what the
 * README's run command promises (data kept across restarts) and what docs/persistence.md promises
 * (at most one interval lost on a crash, nothing on a graceful stop, never a torn multi-key write).
 */
@ExtendWith(ShippedServerPerTest.class)
class PersistenceLifecycleIT {

    @TempDir
    Path dataDir;

    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void ownDataDirectory() {
        env.put("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.resolve("snapshots").toString());
        // Snapshots alone, as they behave with the append-only file off; AppendOnlyFileIT covers the AOF.
        env.put("REDIS_STANDALONE_PERSISTENCE_AOF", "off");
    }

    @Test
    void threeGracefulRestartsKeepAccumulatingDataAndTtls() {
        for (int cycle = 0; cycle < 3; cycle++) {
            LibertyProcess.start(env);
            awaitReady();
            for (int earlier = 0; earlier < cycle; earlier++) {
                assertCycleData(earlier);
            }
            if (cycle > 0) {
                // Taken before the previous stop with a 3 s TTL; more than 3 s have passed since.
                assertThat(Api.post("locks/persist-short-" + (cycle - 1), "{\"ttlMs\":60000}").statusCode())
                        .as("an expired key is not brought back").isEqualTo(201);
                assertThat(Api.post("locks/persist-long-" + (cycle - 1), "{\"ttlMs\":60000}").statusCode())
                        .as("a key with time left keeps its TTL").isEqualTo(409);
            }
            writeCycleData(cycle);
            LibertyProcess.stop(); // snapshot_on_shutdown
        }
        LibertyProcess.start(env);
        awaitReady();
        for (int cycle = 0; cycle < 3; cycle++) {
            assertCycleData(cycle);
        }
    }

    @Test
    void afterAKillTheServerComesBackWithTheLastSnapshotAndNoOrphan() {
        LibertyProcess.start(env);
        long redisPid = awaitReady().getJsonObject("backend").getJsonNumber("pid").longValue();
        Api.put("resources/persist/kill/before", "{\"v\":1}");
        HttpResponse<String> snapshot = Api.adminPost("admin/snapshots", "");
        assertThat(snapshot.statusCode()).isEqualTo(201);
        Api.put("resources/persist/kill/after", "{\"v\":2}");

        LibertyProcess.kill();
        ProcessHandle redis = ProcessHandle.of(redisPid).orElse(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> redis == null || !redis.isAlive());

        LibertyProcess.start(env);
        JsonObject status = awaitReady();
        assertThat(status.getJsonObject("persistence").getJsonObject("restoredGeneration").getInt("generation"))
                .isEqualTo(json(snapshot).getInt("generation"));
        assertThat(Api.get("resources/persist/kill/before").body()).isEqualTo("{\"v\":1}");
        assertThat(Api.get("resources/persist/kill/after").statusCode())
                .as("written after the last snapshot, lost with the kill as documented").isEqualTo(404);
    }

    @Test
    void writesUnderLoadAreNeverTornAcrossSnapshotsAndAKill() throws Exception {
        env.put("REDIS_STANDALONE_PERSISTENCE_SNAPSHOT_INTERVAL", "1s");
        LibertyProcess.start(env);
        awaitReady();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService writers = Executors.newFixedThreadPool(6);
        List<Future<Integer>> work = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            String id = "r" + w;
            work.add(writers.submit(() -> compareAndSetLoop(id, running)));
            String conversation = "persist-load-" + w;
            work.add(writers.submit(() -> appendLoop(conversation, running)));
        }
        String statusBefore = Api.get("admin/status").body();
        // A status read that times out on a starved machine is retried: the wait is for the snapshots.
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> snapshotsTaken() >= 3 + takenIn(statusBefore));
        LibertyProcess.kill();
        running.set(false);
        int writes = 0;
        for (Future<Integer> done : work) {
            writes += done.get();
        }
        writers.shutdown();
        assertThat(writes).as("the writers did run").isGreaterThan(20);

        LibertyProcess.start(env);
        awaitReady();
        for (int w = 0; w < 3; w++) {
            HttpResponse<String> resource = Api.get("resources/persist/load/r" + w);
            if (resource.statusCode() == 200) {
                assertThat(resource.headers().firstValue("ETag")).contains("\"" + sha256(resource.body()) + "\"");
            }
            JsonObject metadata = json(Api.get("memory/persist-load-" + w + "/metadata"));
            JsonObject messages = json(Api.get("memory/persist-load-" + w + "/messages"));
            assertThat(metadata.getInt("message_count")).isEqualTo(messages.getInt("total"));
            assertThat(metadata.getInt("token_count")).isEqualTo(2 * messages.getInt("total"));
        }
    }

    @Test
    void encryptedSnapshotsNeedTheirKey() {
        env.put("REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY", randomKey());
        LibertyProcess.start(env);
        awaitReady();
        Api.put("resources/persist/secret/doc", "{\"classified\":true}");
        LibertyProcess.stop();

        String wrongKey = randomKey();
        Map<String, String> wrong = new HashMap<>(env);
        wrong.put("REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY", wrongKey);
        LibertyProcess.start(wrong);
        await().atMost(Duration.ofSeconds(60)).until(() -> LibertyProcess.messages().contains("Compozy cache did not start"));
        String messages = LibertyProcess.messages();
        assertThat(messages).contains("redis.standalone.persistence.encryption_key").doesNotContain(wrongKey)
                .doesNotContain(env.get("REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY"));
        assertThat(LibertyProcess.awaitDeployed("/api/admin/status").statusCode()).isEqualTo(503);
        LibertyProcess.stop();

        LibertyProcess.start(env);
        awaitReady();
        assertThat(Api.get("resources/persist/secret/doc").body()).isEqualTo("{\"classified\":true}");
    }

    private static void writeCycleData(final int cycle) {
        Api.post("memory/persist-cycle-" + cycle + "/messages", "{\"messages\":[{\"c\":" + cycle + "},{\"c\":0}],\"tokens\":5}");
        Api.put("resources/persist/cycle/c" + cycle, "{\"cycle\":" + cycle + "}");
        Api.put("task-configs/persist-cycle-" + cycle, "{\"cycle\":" + cycle + "}");
        Api.post("locks/persist-short-" + cycle, "{\"ttlMs\":3000}");
        Api.post("locks/persist-long-" + cycle, "{\"ttlMs\":600000}");
    }

    private static void assertCycleData(final int cycle) {
        JsonObject metadata = json(Api.get("memory/persist-cycle-" + cycle + "/metadata"));
        assertThat(metadata.getInt("message_count")).isEqualTo(2);
        assertThat(metadata.getInt("token_count")).isEqualTo(5);
        assertThat(Api.get("resources/persist/cycle/c" + cycle).body()).isEqualTo("{\"cycle\":" + cycle + "}");
        assertThat(Api.get("task-configs/persist-cycle-" + cycle).body()).contains("\"cycle\":" + cycle);
    }

    private static int compareAndSetLoop(final String id, final AtomicBoolean running) {
        int writes = 0;
        String path = "resources/persist/load/" + id;
        while (running.get()) {
            try {
                HttpResponse<String> current = Api.get(path);
                HttpRequest.Builder put = Api.request(path).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":" + writes + ",\"pad\":\"" + "p".repeat(writes % 50) + "\"}"));
                put = current.statusCode() == 200 ? put.header("If-Match", current.headers().firstValue("ETag").orElseThrow())
                        : put.header("If-None-Match", "*");
                if (Api.send(put).statusCode() == 200) {
                    writes++;
                }
            } catch (RuntimeException serverGone) {
                return writes;
            }
        }
        return writes;
    }

    private static int appendLoop(final String conversation, final AtomicBoolean running) {
        int writes = 0;
        while (running.get()) {
            try {
                if (Api.post("memory/" + conversation + "/messages", "{\"messages\":[{\"n\":" + writes + "}],\"tokens\":2}")
                        .statusCode() == 200) {
                    writes++;
                }
            } catch (RuntimeException serverGone) {
                return writes;
            }
        }
        return writes;
    }

    private static JsonObject awaitReady() {
        HttpResponse<String> status = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("admin/status"), r -> r.statusCode() == 200);
        return json(status);
    }

    private static int snapshotsTaken() {
        return takenIn(Api.get("admin/status").body());
    }

    private static int takenIn(final String status) {
        JsonValue taken = json(status).getJsonObject("persistence").get("snapshotsTaken");
        return taken == null ? 0 : Integer.parseInt(taken.toString());
    }

    private static String randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private static String sha256(final String body) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8)));
    }
}
