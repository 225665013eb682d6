package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import jakarta.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded redis-server dies under a running server (SIGKILL by PID, as the OOM killer or an operator
 * would): the adapter starts it again on the same address from its append-only file, and the application,
 * with the client it injected at deploy time and an open event stream, carries on without a redeploy.
 */
@ExtendWith(ShippedServerPerTest.class)
class EmbeddedServerRestartIT {

    @TempDir
    Path dataDir;

    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void ownDataDirectory() {
        env.put("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.resolve("snapshots").toString());
    }

    @Test
    void aKilledRedisServerComesBackOnItsAddressWithTheLastSnapshotAndTheStreamsGoOn() throws Exception {
        LibertyProcess.start(env);
        JsonObject before = awaitPing("ok").getJsonObject("backend");
        long redisPid = before.getJsonNumber("pid").longValue();
        int port = before.getInt("port");
        assertThat(before.getInt("restarts")).isZero();

        String workflow = "restart-wf";
        List<JsonObject> events = new CopyOnWriteArrayList<>();
        Stream<String> stream = Api.stream(Api.request("events/workflows/" + workflow).GET());
        Thread reader = Api.followInBackground(stream.iterator(), events);
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Api.post("events/workflows/" + workflow, "{\"type\":\"before\"}");
            return events.stream().anyMatch(e -> e.getString("type").equals("before"));
        });
        assertThat(Api.put("resources/restart/doc/kept", "{\"v\":1}").statusCode()).isEqualTo(200);
        // The admin endpoint: refused without the administrator's login or with a wrong one, taken with it.
        HttpResponse<String> anonymous = Api.send(Api.request("admin/snapshots").POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(Api.send(Api.request("admin/snapshots").header("Authorization", "Basic "
                + java.util.Base64.getEncoder().encodeToString("admin:wrong".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .GET()).statusCode()).isEqualTo(401);
        assertThat(Api.adminPost("admin/snapshots", "").statusCode()).isEqualTo(201);
        long aofBytes = aofBytes();
        assertThat(Api.put("resources/restart/doc/lost", "{\"v\":2}").statusCode()).isEqualTo(200);
        // Redis hands each write to the OS before it replies, unless an fsync is stuck (then up to 2 s later):
        // once the AOF has grown, a kill of the process alone cannot lose it.
        await().atMost(Duration.ofSeconds(10)).until(() -> aofBytes() > aofBytes);

        // A hung server first: readiness (PING) turns DOWN while the process still exists.
        run("kill", "-STOP", Long.toString(redisPid));
        awaitPing("failed");
        long killedAt = System.nanoTime();
        run("kill", "-KILL", Long.toString(redisPid));

        JsonObject after = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> json(Api.get("admin/status")), s -> s.getString("ping").equals("ok")
                        && s.getJsonObject("backend").getJsonNumber("pid").longValue() != redisPid);
        long upMillis = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(after.getJsonObject("backend").getInt("port")).as("the same address").isEqualTo(port);
        assertThat(after.getJsonObject("backend").getInt("restarts")).isEqualTo(1);
        assertThat(ProcessHandle.of(redisPid)).isEmpty();

        // The application's client, injected at deploy time, reads the restored data: nothing was redeployed.
        HttpResponse<String> kept = await().atMost(Duration.ofSeconds(20))
                .until(() -> Api.get("resources/restart/doc/kept"), r -> r.statusCode() == 200);
        long dataMillis = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(kept.body()).isEqualTo("{\"v\":1}");
        assertThat(Api.get("resources/restart/doc/lost").body())
                .as("written after the last snapshot: kept by the append-only file (the shipped aof=everysec)")
                .isEqualTo("{\"v\":2}");
        assertThat(LibertyProcess.messages()).contains("Started from the append-only file");

        // The event stream opened before the kill receives events published after the restart.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Api.post("events/workflows/" + workflow, "{\"type\":\"after\"}");
            return events.stream().anyMatch(e -> e.getString("type").equals("after"));
        });
        long streamMillis = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(LibertyProcess.messages()).contains("exited unexpectedly; starting it again", "runs again");
        System.out.printf("embedded redis-server killed: PING ok again after %d ms, data read after %d ms,"
                + " stream delivering after %d ms%n", upMillis, dataMillis, streamMillis);
        stream.close();
        reader.interrupt();
    }

    private static long aofBytes() {
        return json(Api.get("admin/status")).getJsonObject("persistence").getJsonObject("appendOnly")
                .getJsonNumber("sizeBytes").longValue();
    }

    private static JsonObject awaitPing(final String ping) {
        return await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> json(Api.get("admin/status")), s -> s.getString("ping").equals(ping));
    }

    private static void run(final String... command) throws Exception {
        Process process = new ProcessBuilder(command).inheritIO().start();
        assertThat(process.waitFor()).as(String.join(" ", command)).isZero();
    }
}
