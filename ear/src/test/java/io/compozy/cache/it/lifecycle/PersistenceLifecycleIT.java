package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.expect;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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

    /**
     * The short lock of each cycle must still be alive when the stop's final snapshot is taken (so that
     * its absence after the restart proves its expiry was kept, not that it never reached a snapshot) and
     * must have expired when the next cycle looks. The stop's snapshot follows the write within a second
     * or two; 10 s leaves a loaded machine five times that.
     */
    private static final Duration SHORT_LOCK_TTL = Duration.ofSeconds(10);

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
        Instant[] shortLockSentAt = new Instant[3];
        Instant[] shortLockTakenBy = new Instant[3];
        for (int cycle = 0; cycle < 3; cycle++) {
            LibertyProcess.start(env);
            JsonObject restored = awaitReady().getJsonObject("persistence").getJsonObject("restoredGeneration");
            assertThat(restored == null).as("a generation was restored at start").isEqualTo(cycle > 0);
            for (int earlier = 0; earlier < cycle; earlier++) {
                assertCycleData(earlier);
            }
            if (cycle > 0) {
                int previous = cycle - 1;
                assertThat(Instant.parse(restored.getString("takenAt")))
                        .as("the stop's snapshot was taken while the short lock was alive")
                        .isBefore(shortLockSentAt[previous].plus(SHORT_LOCK_TTL));
                Instant expired = shortLockTakenBy[previous].plus(SHORT_LOCK_TTL);
                await().atMost(SHORT_LOCK_TTL.plusSeconds(5)).until(() -> Instant.now().isAfter(expired));
                assertThat(Api.post("locks/persist-short-" + previous, "{\"ttlMs\":60000}").statusCode())
                        .as("an expired key is not brought back").isEqualTo(201);
                assertThat(Api.post("locks/persist-long-" + previous, "{\"ttlMs\":60000}").statusCode())
                        .as("a key with time left keeps its TTL").isEqualTo(409);
            }
            writeCycleData(cycle);
            shortLockSentAt[cycle] = Instant.now();
            expect(201, Api.post("locks/persist-short-" + cycle, "{\"ttlMs\":" + SHORT_LOCK_TTL.toMillis() + "}"));
            shortLockTakenBy[cycle] = Instant.now();
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
        expect(200, Api.put("resources/persist/kill/before", "{\"v\":1}"));
        HttpResponse<String> snapshot = Api.adminPost("admin/snapshots", "");
        assertThat(snapshot.statusCode()).isEqualTo(201);
        expect(200, Api.put("resources/persist/kill/after", "{\"v\":2}"));

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
        // Set before the kill: from then on a failed request is the kill's doing, before it a real failure.
        AtomicBoolean killing = new AtomicBoolean();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<AtomicInteger> writes = new ArrayList<>();
        ExecutorService writers = Executors.newFixedThreadPool(6);
        List<Future<?>> work = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            AtomicInteger casWrites = new AtomicInteger();
            AtomicInteger appends = new AtomicInteger();
            writes.add(casWrites);
            writes.add(appends);
            String id = "r" + w;
            work.add(writers.submit(() -> compareAndSetLoop(id, killing, casWrites, failures)));
            String conversation = "persist-load-" + w;
            work.add(writers.submit(() -> appendLoop(conversation, killing, appends, failures)));
        }
        // Every writer has written before the snapshots counted below begin, so each one is in them.
        await().atMost(Duration.ofSeconds(60)).until(() -> !failures.isEmpty() || writes.stream().allMatch(n -> n.get() > 0));
        assertThat(failures).as("requests that failed while the server was up").isEmpty();
        JsonObject persistenceBefore = json(Api.get("admin/status")).getJsonObject("persistence");
        int takenBefore = takenIn(persistenceBefore);
        // A status read that times out on a starved machine is retried: the wait is for the snapshots.
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> snapshotsTaken() >= 3 + takenBefore);
        killing.set(true);
        LibertyProcess.kill();
        for (Future<?> done : work) {
            done.get();
        }
        writers.shutdown();
        assertThat(failures).as("requests that failed while the server was up").isEmpty();

        LibertyProcess.start(env);
        JsonObject restored = awaitReady().getJsonObject("persistence").getJsonObject("restoredGeneration");
        assertThat(restored).as("a generation was restored after the kill").isNotNull();
        assertThat(restored.getInt("generation")).as("one of the generations taken while the writers ran")
                .isGreaterThan(persistenceBefore.containsKey("lastSnapshot")
                        ? persistenceBefore.getJsonObject("lastSnapshot").getInt("generation") : 0);
        for (int w = 0; w < 3; w++) {
            HttpResponse<String> resource = expect(200, Api.get("resources/persist/load/r" + w));
            assertThat(resource.headers().firstValue("ETag")).as("the ETag of the bytes restored with it")
                    .contains("\"" + sha256(resource.body()) + "\"");
            JsonObject metadata = json(expect(200, Api.get("memory/persist-load-" + w + "/metadata")));
            JsonObject messages = json(expect(200, Api.get("memory/persist-load-" + w + "/messages")));
            assertThat(messages.getInt("total")).as("appends restored").isPositive();
            assertThat(metadata.getInt("message_count")).isEqualTo(messages.getInt("total"));
            assertThat(metadata.getInt("token_count")).isEqualTo(2 * messages.getInt("total"));
        }
    }

    @Test
    void encryptedSnapshotsNeedTheirKey() {
        env.put("REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY", randomKey());
        LibertyProcess.start(env);
        awaitReady();
        expect(200, Api.put("resources/persist/secret/doc", "{\"classified\":true}"));
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
        expect(200, Api.post("memory/persist-cycle-" + cycle + "/messages",
                "{\"messages\":[{\"c\":" + cycle + "},{\"c\":0}],\"tokens\":5}"));
        expect(200, Api.put("resources/persist/cycle/c" + cycle, "{\"cycle\":" + cycle + "}"));
        expect(200, Api.put("task-configs/persist-cycle-" + cycle, "{\"cycle\":" + cycle + "}"));
        expect(201, Api.post("locks/persist-long-" + cycle, "{\"ttlMs\":600000}"));
    }

    private static void assertCycleData(final int cycle) {
        JsonObject metadata = json(Api.get("memory/persist-cycle-" + cycle + "/metadata"));
        assertThat(metadata.getInt("message_count")).isEqualTo(2);
        assertThat(metadata.getInt("token_count")).isEqualTo(5);
        assertThat(Api.get("resources/persist/cycle/c" + cycle).body()).isEqualTo("{\"cycle\":" + cycle + "}");
        assertThat(Api.get("task-configs/persist-cycle-" + cycle).body()).contains("\"cycle\":" + cycle);
    }

    /** The only writer of its resource: every conditional PUT must succeed until the kill. */
    private static void compareAndSetLoop(final String id, final AtomicBoolean killing, final AtomicInteger writes,
            final List<String> failures) {
        String path = "resources/persist/load/" + id;
        while (!killing.get()) {
            try {
                HttpResponse<String> current = Api.get(path);
                int n = writes.get();
                HttpRequest.Builder put = Api.request(path).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":" + n + ",\"pad\":\"" + "p".repeat(n % 50) + "\"}"));
                put = current.statusCode() == 200 ? put.header("If-Match", current.headers().firstValue("ETag").orElseThrow())
                        : put.header("If-None-Match", "*");
                HttpResponse<String> answer = Api.send(put);
                if (answer.statusCode() == 200) {
                    writes.incrementAndGet();
                } else if (!killing.get()) {
                    failures.add("PUT " + path + " (after a GET answering " + current.statusCode() + "): "
                            + answer.statusCode() + " " + answer.body());
                }
            } catch (RuntimeException e) {
                if (!killing.get()) {
                    failures.add("PUT " + path + ": " + e);
                }
                return;
            }
        }
    }

    private static void appendLoop(final String conversation, final AtomicBoolean killing, final AtomicInteger writes,
            final List<String> failures) {
        String path = "memory/" + conversation + "/messages";
        while (!killing.get()) {
            try {
                HttpResponse<String> answer = Api.post(path, "{\"messages\":[{\"n\":" + writes.get() + "}],\"tokens\":2}");
                if (answer.statusCode() == 200) {
                    writes.incrementAndGet();
                } else if (!killing.get()) {
                    failures.add("POST " + path + ": " + answer.statusCode() + " " + answer.body());
                }
            } catch (RuntimeException e) {
                if (!killing.get()) {
                    failures.add("POST " + path + ": " + e);
                }
                return;
            }
        }
    }

    private static JsonObject awaitReady() {
        HttpResponse<String> status = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("admin/status"), r -> r.statusCode() == 200);
        return json(status);
    }

    private static int snapshotsTaken() {
        return takenIn(json(Api.get("admin/status")).getJsonObject("persistence"));
    }

    private static int takenIn(final JsonObject persistence) {
        JsonValue taken = persistence.get("snapshotsTaken");
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
