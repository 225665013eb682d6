package io.compozy.cache.it;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.Api;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The workflow runner of issue 6 on a real Liberty, once per backend: the sample project of
 * docs/examples/workflows is loaded and run through the REST API, and what the execution leaves in
 * the stores is read back through the shared client, as another application would.
 */
@ExtendWith(ArquillianExtension.class)
class WorkflowIT {

    private static final Logger LOG = Logger.getLogger(WorkflowIT.class.getName());

    /** The events of a three-task execution that succeeds, in order. */
    static final List<String> THREE_TASKS_SUCCEEDED = List.of("workflow.started", "task.started", "task.succeeded",
            "task.started", "task.succeeded", "task.started", "task.succeeded", "workflow.succeeded");

    @Deployment
    static WebArchive secondApplication() {
        File sample = Path.of(System.getProperty("basedir", ".")).resolve("../docs/examples/workflows/demo.json").toFile();
        return SecondApplication.archive(WorkflowIT.class).addClasses(Api.class).addAsResource(sample, "workflows/demo.json")
                .addAsLibraries(SecondApplication.jarOf(org.awaitility.Awaitility.class),
                        SecondApplication.jarOf(org.hamcrest.Matcher.class));
    }

    @Inject
    RedissonClient redis;

    private final String project = "it" + UUID.randomUUID().toString().substring(0, 8);
    /** Every message published on workflow:* while a test runs, by channel. */
    private final Map<String, List<JsonObject>> workflowChannels = new ConcurrentHashMap<>();
    private RPatternTopic allWorkflows;
    private int listener;

    @BeforeEach
    void loadSampleAndSubscribe() throws IOException {
        HttpResponse<String> loaded = Api.post("workflows/" + project, sample());
        assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
        assertThat(json(loaded).getJsonArray("workflows").getValuesAs(JsonObject.class))
                .extracting(w -> w.getString("id")).containsExactlyInAnyOrder("greet", "triage", "interview");
        // A subscriber as the orchestration engine's listeners are: active when addListener returns.
        allWorkflows = redis.getPatternTopic("workflow:*", StringCodec.INSTANCE);
        listener = allWorkflows.addListener(String.class, (pattern, channel, message) -> workflowChannels
                .computeIfAbsent(channel.toString(), c -> new CopyOnWriteArrayList<>()).add(json(message)));
    }

    @AfterEach
    void unsubscribe() {
        allWorkflows.removeListener(listener);
    }

    @Test
    void theSampleWorkflowRunsEndToEnd() throws Exception {
        HttpResponse<String> started = Api.post("workflows/" + project + "/greet/executions", "{\"input\":\"hello world\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        String execId = json(started).getString("executionId");
        assertThat(started.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/api/executions/" + execId));

        JsonObject state = awaitFinished(execId);

        assertThat(state.getString("status")).isEqualTo("succeeded");
        assertThat(state.get("output")).isEqualTo(json("{\"text\":\"HELLO! YOU SAID: HELLO WORLD\",\"words\":5}"));
        List<JsonObject> tasks = state.getJsonArray("tasks").getValuesAs(JsonObject.class);
        assertThat(tasks).extracting(t -> t.getString("id")).containsExactly("reply", "shout", "count");
        assertThat(tasks).extracting(t -> t.getString("status")).containsOnly("succeeded");
        assertThat(tasks.get(0).get("output")).isEqualTo(Json.createValue("Hello! You said: hello world"));
        assertThat(tasks.get(1).get("output")).isEqualTo(Json.createValue("HELLO! YOU SAID: HELLO WORLD"));
        assertThat(tasks).allSatisfy(t -> assertThat(t.getJsonNumber("durationMs").longValue()).isNotNegative()
                .isLessThanOrEqualTo(state.getJsonNumber("durationMs").longValue()));

        // The runner frees the lock right after writing the final state (and before the last event).
        await().atMost(Duration.ofSeconds(10)).until(() -> !redis.getBucket("lock:execution:" + execId).isExists());

        // Conversation memory: the input and the agent's reply, counted as 2 + 5 whitespace words.
        JsonObject messages = json(Api.get("memory/execution:" + execId + "/messages"));
        assertThat(messages.getJsonArray("messages").getValuesAs(JsonObject.class))
                .extracting(m -> m.getString("role") + ": " + m.getString("content"))
                .containsExactly("user: hello world", "assistant: Hello! You said: hello world");
        assertThat(json(Api.get("memory/execution:" + execId + "/metadata")))
                .isEqualTo(json("{\"token_count\":7,\"message_count\":2}"));

        // Every task's config, with the input it ran on.
        JsonObject countConfig = json(Api.get("task-configs/" + execId + ".count"));
        assertThat(countConfig.getJsonObject("task").getString("tool")).isEqualTo("word_count");
        assertThat(countConfig.get("input")).isEqualTo(Json.createValue("HELLO! YOU SAID: HELLO WORLD"));
        assertThat(Api.get("task-configs/" + execId + ".reply").statusCode()).isEqualTo(200);

        // The subscriber got every event; the stream replays them, and after Last-Event-ID only the rest.
        await().atMost(Duration.ofSeconds(10)).until(() -> received(execId).size() == THREE_TASKS_SUCCEEDED.size());
        assertThat(received(execId)).extracting(m -> m.getString("type")).containsExactlyElementsOf(THREE_TASKS_SUCCEEDED);
        List<JsonObject> all = streamed(execId, null);
        assertThat(all).extracting(e -> e.getString("type")).containsExactlyElementsOf(THREE_TASKS_SUCCEEDED);
        assertThat(all).extracting(e -> e.getInt("id")).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(streamed(execId, "5")).extracting(e -> e.getInt("id")).containsExactly(6, 7, 8);
        assertThat(streamed(execId, "8")).as("a client that saw the end gets an ended stream").isEmpty();
        assertThat(all.get(7).getJsonObject("data").get("output")).isEqualTo(state.get("output"));
    }

    @Test
    void aFailingTaskFailsTheExecutionWithItsError() throws Exception {
        String execId = json(Api.post("workflows/" + project + "/triage/executions",
                "{\"input\":{\"issue\":{\"body\":\"no title here\"}}}")).getString("executionId");

        JsonObject state = awaitFinished(execId);

        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getJsonObject("error")).isEqualTo(json("{\"message\":\"task 'title' failed: json_pick: the input"
                + " has no field 'issue.title' (it has: body)\",\"task\":\"title\"}"));
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class)).extracting(t -> t.getString("status"))
                .containsExactly("failed", "skipped", "skipped");
        List<JsonObject> events = streamed(execId, null);
        assertThat(events).extracting(e -> e.getString("type"))
                .containsExactly("workflow.started", "task.started", "task.failed", "workflow.failed");
        assertThat(events.get(3).getJsonObject("data").getString("error")).isEqualTo(state.getJsonObject("error").getString("message"));
        assertThat(redis.getBucket("lock:execution:" + execId).isExists()).isFalse();
        assertThat(json(Api.get("memory/execution:" + execId + "/metadata")).getInt("message_count")).isZero();
    }

    @Test
    void aDuplicateWebhookDeliveryStartsOneExecutionOnly() {
        String marker = "delivery-" + UUID.randomUUID();
        HttpRequest.Builder delivery = Api.request("workflows/" + project + "/triage/webhook")
                .header("Content-Type", "application/json").header("X-Idempotency-Key", marker)
                .POST(HttpRequest.BodyPublishers.ofString("{\"issue\":{\"title\":\"Login fails on Safari\"}}"));

        HttpResponse<String> first = Api.send(delivery);
        HttpResponse<String> duplicate = Api.send(delivery);

        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        assertThat(duplicate.statusCode()).isEqualTo(409);
        assertThat(json(duplicate).getString("type")).endsWith("duplicate-delivery");
        JsonObject state = awaitFinished(json(first).getString("executionId"));
        assertThat(state.get("output")).isEqualTo(Json.createValue("TRIAGE NOTE: LOGIN FAILS ON SAFARI"));
        assertThat(state.getJsonObject("trigger").getString("idempotencyKey")).isEqualTo(marker);
        assertThat(executionsTriggeredBy(marker)).as("executions whose trigger is this delivery").isEqualTo(1);
    }

    @Test
    void fiftyConcurrentExecutionsAllSucceedAndLoseNothing() throws Exception {
        String conversation = project + "-conversation-";
        Instant begin = Instant.now();
        // HTTP/1.1: the default h2c upgrade of concurrent POSTs now and then hangs in Liberty's upgrade handler.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> posts = IntStream.range(0, 50)
                .mapToObj(i -> client.sendAsync(Api.request("workflows/" + project + "/greet/executions")
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                "{\"input\":\"message " + i + "\",\"memoryKey\":\"" + conversation + (i % 5) + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString()))
                .toList();
        List<String> execIds = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> post : posts) {
            HttpResponse<String> response = post.get(60, TimeUnit.SECONDS);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            execIds.add(json(response).getString("executionId"));
        }

        Duration accepted = Duration.between(begin, Instant.now());
        List<JsonObject> states = execIds.stream().map(WorkflowIT::awaitFinished).toList();
        // Measured by the executions' own timestamps, not by this test's polling.
        Instant lastFinished = states.stream().map(s -> Instant.parse(s.getString("finishedAt"))).max(Instant::compareTo).orElseThrow();
        LOG.info("50 concurrent executions of 'greet': accepted in " + accepted.toMillis() + " ms, all finished "
                + Duration.between(begin, lastFinished).toMillis() + " ms after the first request");

        assertThat(states).extracting(s -> s.getString("status")).containsOnly("succeeded");
        assertThat(execIds).doesNotHaveDuplicates();
        for (String execId : execIds) {
            await("lock of " + execId + " released").atMost(Duration.ofSeconds(10))
                    .until(() -> !redis.getBucket("lock:execution:" + execId).isExists());
            List<String> logged = new ArrayList<>(redis.<String>getList("{stream:events:" + execId + "}:log", StringCodec.INSTANCE).readAll());
            java.util.Collections.reverse(logged); // the log is newest first
            assertThat(logged).extracting(e -> json(e).getString("type")).as("event stream of " + execId)
                    .containsExactlyElementsOf(THREE_TASKS_SUCCEEDED);
            assertThat(logged).extracting(e -> json(e).getInt("id")).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        }
        await("every published event reached the subscriber").atMost(Duration.ofSeconds(20))
                .until(() -> execIds.stream().allMatch(id -> received(id).size() == THREE_TASKS_SUCCEEDED.size()));
        for (String execId : execIds) {
            assertThat(received(execId)).extracting(m -> m.getString("type")).containsExactlyElementsOf(THREE_TASKS_SUCCEEDED);
        }
        for (int k = 0; k < 5; k++) {
            String key = "{memory:" + conversation + k + "}"; // one hash tag per conversation (docs/stores.md)
            // ten executions share each conversation; one agent turn each: "message N" + "Hello! You said: message N"
            List<String> messages = redis.<String>getList(key, StringCodec.INSTANCE).readAll();
            assertThat(messages).hasSize(20);
            // The counts beside the list, bytes included (stores.memory.max_bytes), lose nothing under concurrency.
            long bytes = messages.stream().mapToLong(m -> m.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum();
            assertThat(redis.getMap(key + ":metadata", StringCodec.INSTANCE).readAllMap())
                    .isEqualTo(Map.of("message_count", "20", "token_count", "70", "bytes", Long.toString(bytes)));
        }
        redis.getKeys().delete(IntStream.range(0, 5).boxed()
                .flatMap(k -> Stream.of("{memory:" + conversation + k + "}", "{memory:" + conversation + k + "}:metadata"))
                .toArray(String[]::new));
    }

    private List<JsonObject> received(final String execId) {
        return workflowChannels.getOrDefault("workflow:" + execId, List.of());
    }

    private long executionsTriggeredBy(final String idempotencyKey) {
        try (Stream<String> keys = redis.getKeys().getKeysStreamByPattern("execution:*", 500)) {
            return keys.map(k -> redis.<String>getBucket(k, StringCodec.INSTANCE).get())
                    .filter(v -> v != null && v.contains(idempotencyKey)).count();
        }
    }

    static JsonObject awaitFinished(final String execId) {
        return await().atMost(Duration.ofSeconds(120)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                .until(() -> json(Api.get("executions/" + execId)),
                        state -> List.of("succeeded", "failed").contains(state.getString("status")));
    }

    /** The events of GET /api/executions/{id}/stream, read until the server ends the stream. */
    static List<JsonObject> streamed(final String execId, final String lastEventId) throws Exception {
        HttpRequest.Builder request = Api.request("executions/" + execId + "/stream").GET();
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        return CompletableFuture.supplyAsync(() -> {
            try (Stream<String> lines = Api.stream(request)) {
                return lines.filter(l -> l.startsWith("data:")).map(l -> json(l.substring(5).trim())).toList();
            }
        }).get(30, TimeUnit.SECONDS);
    }

    private static String sample() throws IOException {
        try (InputStream in = WorkflowIT.class.getResourceAsStream("/workflows/demo.json")) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("workflows/demo.json is not in the test archive"));
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
