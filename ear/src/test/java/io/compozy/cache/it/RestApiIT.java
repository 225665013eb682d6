package io.compozy.cache.it;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.AdminCredentials;
import io.compozy.cache.it.support.Api;
import jakarta.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The REST API of docs/api.md on a real Liberty, once per backend: what a curl user does, including
 * the error answers. The store semantics are covered in depth by web/'s contract suite.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class RestApiIT {

    @Deployment(testable = false)
    static WebArchive secondApplication() {
        return SecondApplication.archive();
    }

    private final String unique = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void pingAnswersAConstantWithoutTheStores() {
        HttpResponse<String> pong = Api.get("ping");
        assertThat(pong.statusCode()).isEqualTo(200);
        assertThat(pong.body()).isEqualTo("{\"pong\":true}");
    }

    @Test
    void memoryAppendReadTrimReplaceDelete() {
        String key = "it-chat-" + unique;
        HttpResponse<String> appended = Api.post("memory/" + key + "/messages",
                "{\"messages\":[{\"n\":0},{\"n\":1},{\"n\":2}],\"tokens\":7}");
        assertThat(appended.statusCode()).isEqualTo(200);
        assertThat(json(appended).getInt("length")).isEqualTo(3);
        JsonObject metadata = json(Api.get("memory/" + key + "/metadata"));
        assertThat(metadata.getInt("token_count")).isEqualTo(7);
        assertThat(metadata.getInt("message_count")).isEqualTo(3);
        JsonObject page = json(Api.get("memory/" + key + "/messages?offset=1&limit=1"));
        assertThat(page.getInt("total")).isEqualTo(3);
        assertThat(page.getJsonArray("messages").getJsonObject(0).getInt("n")).isEqualTo(1);

        assertThat(json(Api.post("memory/" + key + "/trim", "{\"keep\":2,\"tokens\":4}")).getInt("length")).isEqualTo(2);
        assertThat(json(Api.put("memory/" + key + "/messages", "{\"messages\":[{\"n\":9}],\"tokens\":1}"))
                .getInt("length")).isEqualTo(1);
        assertThat(Api.delete("memory/" + key).statusCode()).isEqualTo(204);
        assertThat(json(Api.get("memory/" + key + "/metadata")).getInt("message_count")).isZero();
    }

    @Test
    void resourcesServeCanonicalBytesWithTheirSha256AsETagAndCompareAndSet() throws Exception {
        String base = "resources/it" + unique + "/agent/";
        HttpResponse<String> created = Api.send(Api.request(base + "a1").header("Content-Type", "application/json")
                .header("If-None-Match", "*").PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\",\"model\":\"m1\"}")));
        assertThat(created.statusCode()).isEqualTo(200);
        String etag = created.headers().firstValue("ETag").orElseThrow();

        HttpResponse<String> read = Api.get(base + "a1");
        assertThat(read.body()).isEqualTo("{\"model\":\"m1\",\"name\":\"x\"}");
        assertThat(etag).isEqualTo("\"" + sha256(read.body()) + "\"");
        assertThat(read.headers().firstValue("ETag")).contains(etag);

        assertThat(Api.send(Api.request(base + "a1").header("Content-Type", "application/json")
                .header("If-None-Match", "*").PUT(HttpRequest.BodyPublishers.ofString("{}"))).statusCode())
                .as("insert-if-absent on an existing resource").isEqualTo(412);
        HttpResponse<String> updated = Api.send(Api.request(base + "a1").header("Content-Type", "application/json")
                .header("If-Match", etag).PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\",\"model\":\"m2\"}")));
        assertThat(updated.statusCode()).isEqualTo(200);
        assertThat(Api.send(Api.request(base + "a1").header("Content-Type", "application/json")
                .header("If-Match", etag).PUT(HttpRequest.BodyPublishers.ofString("{}"))).statusCode())
                .as("compare-and-set with a stale ETag").isEqualTo(412);
        assertThat(Api.send(Api.request(base + "missing").header("Content-Type", "application/json")
                .header("If-Match", etag).PUT(HttpRequest.BodyPublishers.ofString("{}"))).statusCode()).isEqualTo(404);

        assertThat(Api.get("resources/it" + unique + "/agent").body()).contains("\"a1\"")
                .contains(updated.headers().firstValue("ETag").orElseThrow().replace("\"", ""));
        assertThat(Api.delete(base + "a1").statusCode()).isEqualTo(204);
        assertThat(Api.get(base + "a1").statusCode()).isEqualTo(404);
    }

    @Test
    void resourceEventsPrimeWithExistingItemsThenFollowChanges() throws Exception {
        String project = "it" + unique;
        Api.put("resources/" + project + "/tool/existing", "{\"v\":1}");
        try (Stream<String> stream = Api.stream(Api.request("resources/" + project + "/tool/events").GET())) {
            Iterator<String> lines = stream.iterator();
            JsonObject primed = Api.nextData(lines);
            assertThat(primed.getString("type")).isEqualTo("put");
            assertThat(primed.getJsonObject("key").getString("id")).isEqualTo("existing");

            CompletableFuture.runAsync(() -> Api.delete("resources/" + project + "/tool/existing"));
            JsonObject deleted = Api.nextData(lines);
            assertThat(deleted.getString("type")).isEqualTo("delete");
            assertThat(deleted.getJsonObject("key").getString("id")).isEqualTo("existing");
        }
    }

    @Test
    void taskConfigsWebhooksMcpsAndLocks() {
        String id = "it-exec-" + unique;
        assertThat(Api.put("task-configs/" + id, "{\"agent\":\"a1\"}").statusCode()).isEqualTo(200);
        assertThat(json(Api.get("task-configs/" + id)).getString("agent")).isEqualTo("a1");
        assertThat(Api.get("task-configs").body()).contains(id);
        assertThat(Api.delete("task-configs/" + id).statusCode()).isEqualTo(204);

        HttpRequest.Builder delivery = Api.request("webhooks/it-" + unique).header("Content-Type", "application/json")
                .header("X-Idempotency-Key", "d-1").POST(HttpRequest.BodyPublishers.ofString("{}"));
        assertThat(Api.send(delivery).statusCode()).isEqualTo(202);
        assertThat(Api.send(delivery).statusCode()).as("a duplicate delivery").isEqualTo(409);
        assertThat(Api.post("webhooks/it-" + unique, "{\"no\":\"key\"}").statusCode()).isEqualTo(400);

        String mcp = "it-mcp-" + unique;
        assertThat(Api.put("mcps/" + mcp, "{\"transport\":\"stdio\",\"command\":\"mcp-fs\"}").statusCode()).isEqualTo(200);
        assertThat(json(Api.get("mcps/" + mcp)).getJsonObject("status").getString("status")).isEqualTo("disconnected");
        assertThat(Api.delete("mcps/" + mcp).statusCode()).isEqualTo(204);
        assertThat(Api.delete("mcps/" + mcp).statusCode()).isEqualTo(404);

        String lock = "locks/it-" + unique;
        HttpResponse<String> acquired = Api.post(lock, "{\"ttlMs\":30000}");
        assertThat(acquired.statusCode()).isEqualTo(201);
        assertThat(Api.post(lock, "{\"ttlMs\":30000}").statusCode()).as("held").isEqualTo(409);
        assertThat(Api.delete(lock + "?token=not-the-token").statusCode()).isEqualTo(409);
        assertThat(Api.delete(lock + "?token=" + json(acquired).getString("token")).statusCode()).isEqualTo(204);
    }

    @Test
    void workflowEventsReplayAfterLastEventId() throws Exception {
        String workflow = "it-wf-" + unique;
        int first = json(Api.post("events/workflows/" + workflow, "{\"type\":\"started\"}")).getInt("id");
        json(Api.post("events/tasks/t-" + unique, "{\"type\":\"done\",\"workflowId\":\"" + workflow + "\"}"));
        try (Stream<String> stream = Api.stream(Api.request("events/workflows/" + workflow)
                .header("Last-Event-ID", Integer.toString(first)).GET())) {
            Iterator<String> lines = stream.iterator();
            JsonObject replayed = CompletableFuture.supplyAsync(() -> Api.nextData(lines)).get(30, TimeUnit.SECONDS);
            assertThat(replayed.getInt("id")).isEqualTo(first + 1);
            assertThat(replayed.getString("type")).isEqualTo("done");
        }
    }

    @Test
    void everyWorkflowsEventsNeedTheAdministratorsLogin() throws Exception {
        HttpResponse<String> anonymous = Api.send(Api.request("events/workflows").header("Accept", "text/event-stream").GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        String workflow = "it-all-" + unique;
        try (Stream<String> stream = Api.stream(AdminCredentials.authorize(Api.request("events/workflows")).GET())) {
            Iterator<String> lines = stream.iterator();
            CompletableFuture<JsonObject> received = CompletableFuture.supplyAsync(() -> {
                JsonObject event;
                do {
                    event = Api.nextData(lines);
                } while (!event.toString().contains(workflow));
                return event;
            });
            // Live only: publish until the subscription, made after the answer's headers, sees one.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                Api.post("events/workflows/" + workflow, "{\"type\":\"seen\",\"data\":\"" + workflow + "\"}");
                return received.isDone();
            });
            assertThat(received.get().getString("type")).isEqualTo("seen");
        }
    }

    @Test
    void badInputIsAProblemNeverAServerError() {
        HttpResponse<String> malformed = Api.post("memory/it-bad-" + unique + "/messages", "{\"messages\":[");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(json(malformed).getString("detail")).isNotBlank();

        assertThat(Api.post("memory/it-bad-" + unique + "/messages", "{\"messages\":\"not-a-list\"}").statusCode())
                .isEqualTo(400);
        assertThat(Api.post("locks/it-bad-" + unique, "{\"ttlMs\":-5}").statusCode()).isEqualTo(400);

        String tooBig = "{\"messages\":[\"" + "x".repeat(1024 * 1024 + 10) + "\"]}";
        HttpResponse<String> oversize = Api.post("memory/it-bad-" + unique + "/messages", tooBig);
        assertThat(oversize.statusCode()).isEqualTo(413);
        assertThat(json(oversize).getInt("status")).isEqualTo(413);
        assertThat(Api.get("memory/it-bad-" + unique + "/metadata").body()).contains("\"message_count\":0");
    }

    private static String sha256(final String body) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8)));
    }
}
