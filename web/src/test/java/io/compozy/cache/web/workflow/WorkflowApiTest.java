package io.compozy.cache.web.workflow;

import static io.compozy.cache.web.workflow.WorkflowDefinitionTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.rest.ExecutionResource;
import io.compozy.cache.web.rest.ProblemMapper;
import io.compozy.cache.web.rest.RecordingSseSink;
import io.compozy.cache.web.rest.WorkflowResource;
import io.compozy.cache.web.store.Backends;
import io.compozy.cache.web.store.TestBackend;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.json.JsonObject;
import jakarta.ws.rs.sse.OutboundSseEvent;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.resteasy.mock.MockDispatcherFactory;
import org.jboss.resteasy.mock.MockHttpRequest;
import org.jboss.resteasy.mock.MockHttpResponse;
import org.jboss.resteasy.plugins.providers.sse.SseImpl;
import org.jboss.resteasy.spi.Dispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

/**
 * The workflow and execution endpoints in RESTEasy's in-memory dispatcher over the real stores:
 * statuses and problems a curl user sees, and an execution stream that ends with its last event.
 */
@Backends.OnEmbedded
class WorkflowApiTest {

    private RedissonClient redis;
    private String ns;
    private ScheduledExecutorService scheduler;
    private ExecutorService pool;
    private Dispatcher dispatcher;
    private ExecutionResource executionResource;
    private final AtomicInteger ids = new AtomicInteger();

    private static final String SECRET = "whsec-" + UUID.randomUUID();
    private static final int DELIVERIES_PER_MINUTE = 5;

    @BeforeEach
    void deploy(final TestBackend backend) {
        redis = backend.client();
        ns = "wfapi-" + UUID.randomUUID().toString().substring(0, 12);
        scheduler = Executors.newScheduledThreadPool(1);
        pool = Executors.newCachedThreadPool();
        LockManager locks = new LockManager(redis, scheduler);
        ExecutionStore executions = new ExecutionStore(redis, Duration.ofHours(1));
        ExecutionEventStream events = new ExecutionEventStream(redis, pool, 100);
        WorkflowDefinitions definitions = new WorkflowDefinitions(new ResourceStore(redis, scheduler, ns, Duration.ofSeconds(30)));
        WorkflowRunner runner = new WorkflowRunner(definitions, executions, new MemoryStore(redis, "memory:"),
                new TaskConfigStore(redis, Duration.ofHours(1)), locks, new NotificationSystem(redis, pool, 100), events,
                new WebhookIdempotency(redis, Duration.ofMinutes(10), "idempotency_key"), pool,
                () -> ns + "-exec-" + ids.incrementAndGet());
        executionResource = new ExecutionResource(executions, events, scheduler);
        dispatcher = MockDispatcherFactory.createDispatcher();
        dispatcher.getRegistry().addSingletonResource(new WorkflowResource(definitions, runner,
                new WebhookSignatures(key -> key.equals(WebhookSignatures.SECRET_PREFIX + ns + ".signed")
                        ? Optional.of(SECRET) : Optional.empty()), new WebhookRateLimit(redis, DELIVERIES_PER_MINUTE)));
        dispatcher.getRegistry().addSingletonResource(executionResource);
        dispatcher.getProviderFactory().registerProviderInstance(new ProblemMapper());
    }

    @AfterEach
    void removeOwnKeys() throws InterruptedException {
        pool.shutdown(); // let started executions finish rather than interrupt them
        assertThat(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        scheduler.shutdownNow();
        TestBackend.deleteKeysContaining(redis, ns);
    }

    @Test
    void aBundleIsStoredWholeOrNotAtAll() {
        assertProblem(call("POST", "/workflows/" + ns, "{\"workflows\":{\"ok\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]},"
                + "\"bad\":{\"tasks\":[{\"id\":\"t\",\"kind\":\"tool\",\"tool\":\"sql\"}]}}}", Map.of()), 400,
                "workflow 'bad', task 1 ('t'): tool 'sql' is unknown");
        assertThat(json(text(call("GET", "/workflows/" + ns, null, Map.of()))).asJsonObject().getJsonArray("items")).isEmpty();
        assertProblem(call("POST", "/workflows/" + ns, "{\"tasks\":[]}", Map.of()), 400, "Field 'workflows' is required");

        MockHttpResponse loaded = call("POST", "/workflows/" + ns, "{\"workflows\":{\"ok\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}", Map.of());
        assertThat(loaded.getStatus()).isEqualTo(200);
        assertThat(json(text(loaded)).asJsonObject().getJsonArray("workflows").getJsonObject(0).getString("id")).isEqualTo("ok");
    }

    @Test
    void startingAnswers202WithTheExecutionsAddressAndRefusesWhatCannotRun() {
        call("POST", "/workflows/" + ns, "{\"workflows\":{\"ok\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}", Map.of());

        MockHttpResponse started = call("POST", "/workflows/" + ns + "/ok/executions", "{\"input\":\"hi\"}", Map.of());
        assertThat(started.getStatus()).isEqualTo(202);
        assertThat(started.getOutputHeaders().getFirst("Location").toString()).endsWith("/api/executions/" + ns + "-exec-1");
        assertThat(json(text(started)).asJsonObject().getString("executionId")).isEqualTo(ns + "-exec-1");

        assertProblem(call("POST", "/workflows/" + ns + "/missing/executions", "{}", Map.of()), 404, "workflow 'missing' does not exist");
        assertProblem(call("POST", "/workflows/" + ns + "/ok/executions", "{\"memoryKey\":\" \"}", Map.of()), 400, "'memoryKey'");
        assertProblem(call("POST", "/workflows/" + ns + "/ok/executions", "[1]", Map.of()), 400, "JSON object");
        assertProblem(call("GET", "/executions/" + ns + "-nope", null, Map.of()), 404, "execution '" + ns + "-nope' does not exist");

        assertProblem(call("POST", "/workflows/" + ns + "/ok/webhook", "{\"no\":\"key\"}", Map.of()), 400, "X-Idempotency-Key");
        assertThat(call("POST", "/workflows/" + ns + "/ok/webhook", "{}", Map.of("X-Idempotency-Key", "k")).getStatus()).isEqualTo(202);
        assertProblem(call("POST", "/workflows/" + ns + "/ok/webhook", "{}", Map.of("X-Idempotency-Key", "k")), 409, "no execution was started");
        assertThat(ids.get()).isEqualTo(2);
    }

    @Test
    void theStreamOfAFinishedExecutionReplaysAndEnds() {
        call("POST", "/workflows/" + ns, "{\"workflows\":{\"ok\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}", Map.of());
        String execId = json(text(call("POST", "/workflows/" + ns + "/ok/executions", "{\"input\":\"hi\"}", Map.of())))
                .asJsonObject().getString("executionId");
        await().atMost(Duration.ofSeconds(10)).until(() -> text(call("GET", "/executions/" + execId, null, Map.of()))
                .contains("\"status\":\"succeeded\""));

        RecordingSseSink all = new RecordingSseSink();
        executionResource.stream(execId, null, all, new SseImpl());
        await().atMost(Duration.ofSeconds(5)).until(all::isClosed);
        assertThat(all.events).extracting(OutboundSseEvent::getName)
                .containsExactly("workflow.started", "task.started", "task.succeeded", "workflow.succeeded");
        assertThat(all.events).extracting(OutboundSseEvent::getId).containsExactly("1", "2", "3", "4");

        RecordingSseSink rest = new RecordingSseSink();
        executionResource.stream(execId, "2", rest, new SseImpl());
        await().atMost(Duration.ofSeconds(5)).until(rest::isClosed);
        assertThat(rest.events).extracting(OutboundSseEvent::getId).containsExactly("3", "4");

        RecordingSseSink none = new RecordingSseSink();
        executionResource.stream(execId, "4", none, new SseImpl());
        await().atMost(Duration.ofSeconds(5)).until(none::isClosed);
        assertThat(none.events).isEmpty();
    }

    /**
     * A workflow with a webhook secret takes a delivery only with the body's HMAC-SHA256 in X-Compozy-Signature:
     * missing, malformed, wrong, or right for another body, each is 401 and starts nothing.
     */
    @Test
    void aSignedWorkflowsWebhookTakesOnlyDeliveriesSignedWithItsSecret() {
        assertThat(call("POST", "/workflows/" + ns, "{\"workflows\":{\"signed\":{\"tasks\":[{\"id\":\"a\","
                + "\"kind\":\"agent\"}]},\"unsigned\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}", Map.of())
                .getStatus() / 100).isEqualTo(2);
        String body = "{\"order\":42}";
        String path = "/workflows/" + ns + "/signed/webhook";
        String right = "sha256=" + java.util.HexFormat.of().formatHex(WebhookSignatures.hmac(
                SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8), body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String otherBody = "sha256=" + java.util.HexFormat.of().formatHex(WebhookSignatures.hmac(
                SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put("missing", null);
        refused.put("malformed", "sha256=zz");
        refused.put("another body's", otherBody);
        refused.put("another scheme", "sha1=" + right.substring(7));
        for (Map.Entry<String, String> bad : refused.entrySet()) {
            Map<String, String> headers = new java.util.HashMap<>(Map.of("X-Idempotency-Key", "d-" + bad.getKey()));
            if (bad.getValue() != null) {
                headers.put(WebhookSignatures.HEADER, bad.getValue());
            }
            MockHttpResponse response = call("POST", path, body, headers);
            assertProblem(response, 401, "no execution was started");
            assertThat(text(response)).as(bad.getKey()).doesNotContain(SECRET).doesNotContain(right);
        }
        assertThat(call("POST", path, body, Map.of("X-Idempotency-Key", "d-right", WebhookSignatures.HEADER, right))
                .getStatus()).isEqualTo(202);
        // A workflow without a secret takes deliveries as before.
        assertThat(call("POST", "/workflows/" + ns + "/unsigned/webhook", "{}", Map.of("X-Idempotency-Key", "unsigned"))
                .getStatus()).isEqualTo(202);
    }

    @Test
    void aWorkflowTakesItsDeliveriesPerMinuteAndThenRefusesWith429StartingNothing() {
        call("POST", "/workflows/" + ns, "{\"workflows\":{\"busy\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]},"
                + "\"quiet\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}", Map.of());
        String busy = "/workflows/" + ns + "/busy/webhook";
        for (int delivery = 1; delivery <= DELIVERIES_PER_MINUTE; delivery++) {
            assertThat(call("POST", busy, "{}", Map.of("X-Idempotency-Key", "busy-" + delivery)).getStatus())
                    .as("delivery %d", delivery).isEqualTo(202);
        }
        int executionsBefore = ids.get();
        MockHttpResponse refused = call("POST", busy, "{}", Map.of("X-Idempotency-Key", "busy-over"));
        assertProblem(refused, 429, WebhookRateLimit.PER_MINUTE_KEY);
        assertThat(json(text(refused)).asJsonObject().getString("type")).endsWith("webhook-rate-limited");
        assertThat(ids.get()).as("no execution started").isEqualTo(executionsBefore);
        // Counted per workflow: another one of the project takes deliveries as before.
        assertThat(call("POST", "/workflows/" + ns + "/quiet/webhook", "{}", Map.of("X-Idempotency-Key", "quiet"))
                .getStatus()).isEqualTo(202);
    }

    private MockHttpResponse call(final String method, final String path, final String body, final Map<String, String> headers) {
        try {
            MockHttpRequest request = MockHttpRequest.create(method, path);
            headers.forEach(request::header);
            if (body != null) {
                request.contentType("application/json").content(body.getBytes(StandardCharsets.UTF_8));
            }
            MockHttpResponse response = new MockHttpResponse();
            dispatcher.invoke(request, response);
            return response;
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static String text(final MockHttpResponse response) {
        return new String(response.getOutput(), StandardCharsets.UTF_8);
    }

    private static void assertProblem(final MockHttpResponse response, final int status, final String detail) {
        assertThat(response.getStatus()).as(text(response)).isEqualTo(status);
        assertThat(response.getOutputHeaders().getFirst("Content-Type").toString()).startsWith(ProblemMapper.PROBLEM_JSON);
        JsonObject problem = json(text(response)).asJsonObject();
        assertThat(problem.getString("detail")).contains(detail);
    }
}
