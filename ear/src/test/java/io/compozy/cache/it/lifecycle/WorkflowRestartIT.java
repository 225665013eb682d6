package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 6's restart scenario on the shipped configuration (standalone, persistence on): executions
 * that finished before a graceful stop are readable, with their events, after the next start.
 */
@ExtendWith(ShippedServerPerTest.class)
class WorkflowRestartIT {

    private final String project = "restart" + UUID.randomUUID().toString().substring(0, 8);

    @Test
    void finishedExecutionsAreStillReadableAfterARestart() throws Exception {
        LibertyProcess.start(Map.of());
        JsonObject status = readyStatus();
        assertThat(status.getString("mode")).isEqualTo("standalone");
        assertThat(status.getJsonObject("persistence").getBoolean("enabled")).as("the premise: persistence is on").isTrue();

        String sample = Files.readString(Path.of(System.getProperty("basedir", "."), "../docs/examples/workflows/demo.json"));
        assertThat(Api.post("workflows/" + project, sample).statusCode()).isEqualTo(200);
        String succeeded = start("interview", "{\"input\":\"caching\"}");
        String failed = start("triage", "{\"input\":{\"issue\":{}}}");
        JsonObject succeededBefore = awaitFinished(succeeded);
        JsonObject failedBefore = awaitFinished(failed);
        assertThat(succeededBefore.getString("status")).isEqualTo("succeeded");
        assertThat(failedBefore.getString("status")).isEqualTo("failed");
        List<JsonObject> eventsBefore = streamed(succeeded);

        LibertyProcess.stop();
        LibertyProcess.start(Map.of());
        readyStatus();

        assertThat(json(Api.get("executions/" + succeeded))).isEqualTo(succeededBefore);
        assertThat(json(Api.get("executions/" + failed))).isEqualTo(failedBefore);
        assertThat(succeededBefore.getString("output")).isEqualTo("Noted. Tell me more about caching");
        assertThat(streamed(succeeded)).isEqualTo(eventsBefore).extracting(e -> e.getString("type"))
                .endsWith("workflow.succeeded");
        assertThat(json(Api.get("memory/execution:" + succeeded + "/metadata")))
                .isEqualTo(json("{\"token_count\":17,\"message_count\":4}"));
        HttpResponse<String> lock = Api.post("locks/execution:" + succeeded, "{\"ttlMs\":30000}");
        assertThat(lock.statusCode()).as("no execution lock came back with the snapshot").isEqualTo(201);
        Api.delete("locks/execution:" + succeeded + "?token=" + json(lock).getString("token"));
    }

    private String start(final String workflow, final String body) {
        HttpResponse<String> started = Api.post("workflows/" + project + "/" + workflow + "/executions", body);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        return json(started).getString("executionId");
    }

    private static JsonObject awaitFinished(final String execId) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> json(Api.get("executions/" + execId)),
                        state -> List.of("succeeded", "failed").contains(state.getString("status")));
    }

    private static List<JsonObject> streamed(final String execId) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try (Stream<String> lines = Api.stream(Api.request("executions/" + execId + "/stream").GET())) {
                return lines.filter(l -> l.startsWith("data:")).map(l -> json(l.substring(5).trim())).toList();
            }
        }).get(30, TimeUnit.SECONDS);
    }

    private static JsonObject readyStatus() throws IOException {
        HttpResponse<String> response = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> LibertyProcess.get("/api/admin/status"), r -> r.statusCode() == 200);
        return json(response.body());
    }
}
