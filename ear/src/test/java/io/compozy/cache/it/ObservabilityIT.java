package io.compozy.cache.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.it.support.TestServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What an operator scrapes, after real operations through the REST API, in both modes: the spec's metric
 * names with their labels and values, and the health checks with their data.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class ObservabilityIT {

    @Deployment
    static WebArchive secondApplication() {
        return SecondApplication.archive(ObservabilityIT.class, MetricsText.class, Api.class);
    }

    private final String id = UUID.randomUUID().toString();

    private static String backend() {
        return TestServer.mode().equals("standalone") ? "embedded" : "redis";
    }

    private static boolean standalone() {
        return TestServer.mode().equals("standalone");
    }

    @Test
    void storeOperationsAreCountedByBackendOperationAndOutcome() {
        String b = backend();
        MetricsText before = MetricsText.scrape();

        assertThat(send("POST", "/api/memory/it-" + id + "/messages",
                "{\"messages\":[{\"role\":\"user\"}],\"tokens\":2}", Map.of()).statusCode()).isEqualTo(200);
        String resource = "/api/resources/it-observe/agent/" + id;
        assertThat(send("PUT", resource, "{\"name\":\"a\"}", Map.of("If-None-Match", "*")).statusCode()).isEqualTo(200);
        assertThat(send("PUT", resource, "{\"name\":\"b\"}", Map.of("If-None-Match", "*")).statusCode()).isEqualTo(412);
        assertThat(send("PUT", resource, "{\"name\":\"c\"}", Map.of("If-Match", "\"0000\"")).statusCode()).isEqualTo(412);
        assertThat(send("POST", "/api/webhooks/it-observe", "{}", Map.of("X-Idempotency-Key", id)).statusCode()).isEqualTo(202);
        assertThat(send("POST", "/api/webhooks/it-observe", "{}", Map.of("X-Idempotency-Key", id)).statusCode()).isEqualTo(409);
        assertThat(send("POST", "/api/locks/it-" + id, "{\"ttlMs\":30000}", Map.of()).statusCode()).isEqualTo(201);
        assertThat(send("POST", "/api/locks/it-" + id, "{\"ttlMs\":30000}", Map.of()).statusCode()).isEqualTo(409);

        MetricsText after = MetricsText.scrape();
        assertThat(after.type("compozy_cache_operations_total")).isEqualTo("counter");
        assertThat(after.type("compozy_cache_operation_duration_seconds")).isEqualTo("histogram");
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "memory_append", "status", "ok")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "resource_put_if_match", "status", "ok")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "resource_put_if_match", "status", "duplicate")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "resource_put_if_match", "status", "mismatch")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "webhook_check", "status", "ok")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "webhook_check", "status", "duplicate")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "lock_acquire", "status", "ok")).isEqualTo(1);
        assertThat(delta(before, after, "compozy_cache_operations_total", "backend", b, "operation", "lock_acquire", "status", "held")).isEqualTo(1);
        // Three timed calls of put_if_match, whatever their outcome; each landed in a bucket.
        assertThat(delta(before, after, "compozy_cache_operation_duration_seconds_count", "backend", b, "operation", "resource_put_if_match")).isEqualTo(3);
        assertThat(delta(before, after, "compozy_cache_operation_duration_seconds_bucket", "backend", b, "operation", "resource_put_if_match", "le", "+Inf")).isEqualTo(3);
        assertThat(after.value("compozy_cache_operation_duration_seconds_sum", "backend", b, "operation", "memory_append"))
                .hasValueSatisfying(seconds -> assertThat(seconds).isPositive().isLessThan(60));
        assertThat(after.family("compozy_cache_operations_total")).doesNotContain("backend=\"" + (b.equals("redis") ? "embedded" : "redis") + "\"");
    }

    @Test
    void theServersMemoryAndItsLimitAreGauges() {
        MetricsText metrics = await().atMost(Duration.ofSeconds(30)).until(MetricsText::scrape,
                m -> m.value("compozy_cache_memory_used_bytes", "backend", backend()).isPresent());
        assertThat(metrics.type("compozy_cache_memory_used_bytes")).isEqualTo("gauge");
        assertThat(metrics.value("compozy_cache_memory_used_bytes", "backend", backend())).hasValueSatisfying(
                used -> assertThat(used).isGreaterThan(100_000));
        assertThat(metrics.value("compozy_cache_memory_limit_bytes", "backend", backend())).hasValueSatisfying(
                limit -> assertThat(limit).isGreaterThanOrEqualTo(0));
        assertThat(metrics.value("compozy_cache_notification_drops_total")).isPresent();
    }

    @Test
    void aSnapshotMovesTheSnapshotMetricsInStandaloneAndDistributedHasNone() {
        MetricsText before = await().atMost(Duration.ofSeconds(30)).until(MetricsText::scrape,
                m -> m.value("compozy_cache_memory_used_bytes", "backend", backend()).isPresent());
        HttpResponse<String> snapshot = Api.adminPost("admin/snapshots", "");
        if (!standalone()) {
            assertThat(snapshot.statusCode()).isEqualTo(409);
            assertThat(snapshot.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
            assertThat(Json.createReader(new StringReader(snapshot.body())).readObject().getString("type"))
                    .isEqualTo("urn:compozy:cache:problem:snapshots-not-enabled");
            assertThat(before.hasAny("compozy_standalone_")).as(before.toString()).isFalse();
            return;
        }
        assertThat(snapshot.statusCode()).isEqualTo(201);
        long bytes = Json.createReader(new StringReader(snapshot.body())).readObject().getJsonNumber("bytes").longValue();
        MetricsText after = await().atMost(Duration.ofSeconds(30)).until(MetricsText::scrape,
                m -> delta(before, m, "compozy_standalone_snapshots_taken_total") == 1
                        && delta(before, m, "compozy_standalone_snapshot_duration_seconds_count") >= 1);
        // Both are published by one refresh, but a scrape can fall between the two updates: wait for both.
        assertThat(delta(before, after, "compozy_standalone_snapshot_duration_seconds_count")).isEqualTo(1);
        assertThat(after.type("compozy_standalone_snapshot_duration_seconds")).isEqualTo("histogram");
        assertThat(after.value("compozy_standalone_snapshot_size_bytes")).hasValue((double) bytes);
        assertThat(after.value("compozy_standalone_last_snapshot_age_seconds")).hasValueSatisfying(
                age -> assertThat(age).isBetween(0.0, 60.0));
        assertThat(after.value("compozy_standalone_snapshots_failed_total")).isPresent();
        assertThat(after.value("compozy_standalone_snapshots_skipped_total")).isPresent();
        assertThat(after.value("compozy_standalone_restores_total")).isPresent();
        assertThat(after.value("compozy_standalone_restore_fallbacks_total")).isPresent();
        assertThat(after.value("compozy_standalone_embedded_restarts_total")).hasValue(0.0);
        // The shipped aof=everysec: Redis's append-only file numbers.
        assertThat(after.value("compozy_standalone_aof_enabled")).hasValue(1.0);
        assertThat(after.value("compozy_standalone_aof_size_bytes")).hasValueSatisfying(
                size -> assertThat(size).isPositive());
        assertThat(after.value("compozy_standalone_aof_last_write_ok")).hasValue(1.0);
        assertThat(after.value("compozy_standalone_aof_last_rewrite_ok")).hasValue(1.0);
        assertThat(after.value("compozy_standalone_aof_rewrite_in_progress")).isPresent();
        assertThat(after.value("compozy_standalone_aof_rewrites_total")).isPresent();
        assertThat(after.value("compozy_standalone_aof_delayed_fsync_total")).isPresent();
    }

    @Test
    void readinessIsUpWithTheModeAndThePersistenceState() {
        HttpResponse<String> response = LibertyProcess.get("/health/ready");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject health = json(response.body());
        assertThat(health.getString("status")).isEqualTo("UP");
        JsonObject cache = check(health, "compozy-cache");
        assertThat(cache.getString("status")).isEqualTo("UP");
        assertThat(cache.getJsonObject("data").getString("mode")).isEqualTo(TestServer.mode());
        assertThat(cache.getJsonObject("data").getString("backend")).isEqualTo(backend());
        assertThat(cache.getJsonObject("data").getString("ping")).isEqualTo("ok");
        JsonObject persistence = check(health, "compozy-cache-persistence");
        assertThat(persistence.getString("status")).isEqualTo("UP");
        if (standalone()) {
            assertThat(persistence.getJsonObject("data").getString("persistence")).isEqualTo("on");
            assertThat(persistence.getJsonObject("data").getString("state")).isEqualTo("ok");
        } else {
            assertThat(persistence.getJsonObject("data").getString("persistence")).isEqualTo("off");
        }
    }

    @Test
    void livenessIsUpWhileTheBackendRuns() {
        HttpResponse<String> response = LibertyProcess.get("/health/live");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject check = check(json(response.body()), "compozy-cache-embedded-server");
        assertThat(check.getString("status")).isEqualTo("UP");
        assertThat(check.getJsonObject("data").getString("backend")).isEqualTo(backend());
        assertThat(check.getJsonObject("data").containsKey("pid")).isEqualTo(standalone());
    }

    private static double delta(final MetricsText before, final MetricsText after, final String name,
                                final String... labels) {
        return after.count(name, labels) - before.count(name, labels);
    }

    private static JsonObject json(final String body) {
        return Json.createReader(new StringReader(body)).readObject();
    }

    private static JsonObject check(final JsonObject health, final String name) {
        return health.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                .filter(c -> c.getString("name").equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + health));
    }

    private static HttpResponse<String> send(final String method, final String path, final String body,
                                             final Map<String, String> headers) {
        HttpRequest.Builder request = Api.request(path.substring("/api/".length())).method(method,
                body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (!body.isEmpty()) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        return Api.send(request);
    }
}
