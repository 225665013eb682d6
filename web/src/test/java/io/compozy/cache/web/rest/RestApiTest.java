package io.compozy.cache.web.rest;

import io.compozy.cache.web.admin.Administration;
import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.web.store.Backends;
import io.compozy.cache.web.store.TestBackend;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.mcp.McpDefinitionStore;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.util.Optional;
import java.io.StringReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.resteasy.mock.MockDispatcherFactory;
import org.jboss.resteasy.mock.MockHttpRequest;
import org.jboss.resteasy.mock.MockHttpResponse;
import org.jboss.resteasy.spi.Dispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

/**
 * The REST API in RESTEasy's in-memory dispatcher (the JAX-RS implementation behind Liberty's
 * restfulWS), over real stores on the embedded redis-server: statuses, headers, bodies and problems.
 */
@Backends.OnEmbedded
class RestApiTest {

    static final long BODY_LIMIT = 64 * 1024;

    private RedissonClient redis;
    private String ns;
    private Dispatcher dispatcher;
    private ScheduledExecutorService scheduler;
    private ExecutorService delivery;

    @BeforeEach
    void deploy(final TestBackend backend) {
        redis = backend.client();
        ns = "rest-" + UUID.randomUUID().toString().substring(0, 12);
        scheduler = Executors.newScheduledThreadPool(1);
        delivery = Executors.newCachedThreadPool();
        LockManager locks = new LockManager(redis, scheduler);
        dispatcher = MockDispatcherFactory.createDispatcher();
        var registry = dispatcher.getRegistry();
        registry.addSingletonResource(new MemoryResource(new MemoryStore(redis, ns + ":memory")));
        registry.addSingletonResource(new ResourcesResource(new ResourceStore(redis, scheduler, ns, Duration.ofSeconds(30)), scheduler));
        registry.addSingletonResource(new TaskConfigResource(new TaskConfigStore(redis, Duration.ofHours(1))));
        registry.addSingletonResource(new WebhookResource(new WebhookIdempotency(redis, Duration.ofMinutes(10), "event_id")));
        registry.addSingletonResource(new McpResource(new McpDefinitionStore(redis)));
        registry.addSingletonResource(new LockResource(locks));
        registry.addSingletonResource(new EventsResource(new ExecutionEventStream(redis, delivery, 100),
                new NotificationSystem(redis, delivery, 100), scheduler, new Administration(Optional.empty(), () -> "BASIC")));
        dispatcher.getProviderFactory().registerProviderInstance(new ProblemMapper());
        dispatcher.getProviderFactory().registerProviderInstance(new BodySizeLimit(BODY_LIMIT));
    }

    @AfterEach
    void removeOwnKeys() {
        scheduler.shutdownNow();
        delivery.shutdownNow();
        TestBackend.deleteKeysContaining(redis, ns);
    }

    @Test
    void memoryAppendReadMetadataReplaceTrimDelete() {
        String base = "/memory/" + ns + "-chat";
        assertThat(call("POST", base + "/messages", "{\"messages\":[{\"m\":0},{\"m\":1},{\"m\":2}],\"tokens\":5}"))
                .satisfies(r -> assertJson(r, 200, "{\"length\":3}"));
        assertJson(call("GET", base + "/messages?offset=1&limit=1", null), 200, "{\"messages\":[{\"m\":1}],\"total\":3}");
        assertJson(call("GET", base + "/messages", null), 200, "{\"messages\":[{\"m\":0},{\"m\":1},{\"m\":2}],\"total\":3}");
        assertJson(call("GET", base + "/metadata", null), 200, "{\"token_count\":5,\"message_count\":3}");
        assertJson(call("PUT", base + "/messages", "{\"messages\":[{\"r\":1}],\"tokens\":9}"), 200, "{\"length\":1}");
        assertJson(call("GET", base + "/metadata", null), 200, "{\"token_count\":9,\"message_count\":1}");
        assertJson(call("POST", base + "/trim", "{\"keep\":0,\"tokens\":0}"), 200, "{\"length\":0}");
        assertThat(call("DELETE", base, null).getStatus()).isEqualTo(204);
    }

    @Test
    void memoryRejectsMalformedAndMistypedBodiesWith400() {
        String base = "/memory/" + ns + "-bad";
        assertProblem(call("POST", base + "/messages", "{\"messages\": [1,"), 400, "not valid JSON");
        assertProblem(call("POST", base + "/messages", "{\"messages\":\"hi\"}"), 400, "'messages'");
        assertProblem(call("POST", base + "/messages", "{\"messages\":[],\"maxLen\":\"ten\"}"), 400, "'maxLen'");
        assertProblem(call("POST", base + "/messages", "[1,2]"), 400, "JSON object");
        assertProblem(call("POST", base + "/trim", "{\"keep\":-1}"), 400, "keep");
        assertProblem(call("POST", base + "/trim", "{}"), 400, "'keep'");
        assertProblem(call("GET", base + "/messages?offset=abc", null), 400, "'offset'");
    }

    @Test
    void resourcesServeCanonicalBytesWithETagsAndPreconditions() throws Exception {
        String url = "/resources/p/agent/" + "a1";
        MockHttpResponse put = call("PUT", url, "{ \"z\": 1, \"a\": {\"y\": true, \"b\": null} }");
        String canonical = "{\"a\":{\"b\":null,\"y\":true},\"z\":1}";
        String etag = sha256(canonical);
        assertThat(put.getStatus()).isEqualTo(200);
        assertThat(put.getOutputHeaders().getFirst("ETag")).hasToString("\"" + etag + "\"");

        MockHttpResponse get = call("GET", url, null);
        assertThat(get.getStatus()).isEqualTo(200);
        assertThat(get.getOutput()).isEqualTo(canonical.getBytes(StandardCharsets.UTF_8));
        assertThat(get.getOutputHeaders().getFirst("ETag")).hasToString("\"" + etag + "\"");

        assertThat(call("PUT", url, "{\"v\":2}", Map.of("If-Match", "\"" + etag + "\"")).getStatus()).isEqualTo(200);
        assertProblem(call("PUT", url, "{\"v\":3}", Map.of("If-Match", "\"" + etag + "\"")), 412, "changed");
        assertProblem(call("PUT", "/resources/p/agent/none", "{}", Map.of("If-Match", "\"" + etag + "\"")), 404, "does not exist");
        assertProblem(call("PUT", url, "{}", Map.of("If-None-Match", "*")), 412, "already exists");
        assertThat(call("PUT", "/resources/p/agent/fresh", "{}", Map.of("If-None-Match", "*")).getStatus()).isEqualTo(200);
        assertProblem(call("PUT", url, "{}", Map.of("If-Match", "no-quotes")), 400, "If-Match");

        JsonObject list = json(text(call("GET", "/resources/p/agent", null)));
        assertThat(list.getJsonArray("items")).hasSize(2);
        assertThat(list.getJsonArray("items").getJsonObject(0).getString("id")).isEqualTo("a1");

        assertThat(call("DELETE", url, null).getStatus()).isEqualTo(204);
        assertThat(call("DELETE", url, null).getStatus()).isEqualTo(204);
        assertProblem(call("GET", url, null), 404, "p/agent/a1");
    }

    @Test
    void taskConfigsPutGetListDelete() {
        String id = ns + "-exec";
        assertJson(call("PUT", "/task-configs/" + id, "{\"x\":1}"), 200, "{\"id\":\"" + id + "\",\"ttl_seconds\":3600}");
        assertJson(call("GET", "/task-configs/" + id, null), 200, "{\"x\":1}");
        assertThat(json(text(call("GET", "/task-configs", null))).getJsonArray("ids").getValuesAs(
                jakarta.json.JsonString::getString)).contains(id);
        assertThat(call("DELETE", "/task-configs/" + id, null).getStatus()).isEqualTo(204);
        assertProblem(call("GET", "/task-configs/" + id, null), 404, id);
        assertProblem(call("PUT", "/task-configs/" + id, "{oops"), 400, "not valid JSON");
    }

    @Test
    void webhooksAcceptOnceThenRefuseDuplicates() {
        String url = "/webhooks/" + ns;
        assertThat(call("POST", url, "not even json", Map.of("X-Idempotency-Key", "d-1")).getStatus()).isEqualTo(202);
        assertProblem(call("POST", url, "{}", Map.of("X-Idempotency-Key", "d-1")), 409, "d-1");
        assertThat(call("POST", url, "{\"event_id\":\"d-2\"}").getStatus()).isEqualTo(202);
        assertProblem(call("POST", url, "{\"other\":1}"), 400, "X-Idempotency-Key");
    }

    @Test
    void everyWorkflowsEventsStayLockedWhileNoAdministratorPasswordIsConfigured() {
        assertProblem(call("GET", "/events/workflows", null, Map.of("Accept", "text/event-stream")), 503, "ADMIN_PASSWORD");
    }

    @Test
    void mcpsValidateStoreListAndDelete() {
        String name = ns + "-fs";
        assertProblem(call("PUT", "/mcps/" + name, "{\"transport\":\"stdio\"}"), 400, "'command'");
        assertThat(call("PUT", "/mcps/" + name, "{\"transport\":\"stdio\",\"command\":\"fs\"}").getStatus()).isEqualTo(200);
        JsonObject got = json(text(call("GET", "/mcps/" + name, null)));
        assertThat(got.getJsonObject("definition").getString("name")).isEqualTo(name);
        assertThat(got.getJsonObject("status").getString("status")).isEqualTo("disconnected");
        assertThat(text(call("GET", "/mcps", null))).contains(name);
        assertThat(call("DELETE", "/mcps/" + name, null).getStatus()).isEqualTo(204);
        assertProblem(call("DELETE", "/mcps/" + name, null), 404, name);
    }

    @Test
    void locksGiveATokenRefuseWhileHeldAndReleaseOnlyForTheOwner() {
        String url = "/locks/" + ns + "-job";
        MockHttpResponse acquired = call("POST", url, "{\"ttlMs\":30000}");
        assertThat(acquired.getStatus()).isEqualTo(201);
        String token = json(text(acquired)).getString("token");
        assertProblem(call("POST", url, "{\"ttlMs\":30000}"), 409, "held");
        assertProblem(call("DELETE", url + "?token=wrong", null), 409, "another owner");
        assertThat(call("DELETE", url + "?token=" + token, null).getStatus()).isEqualTo(204);
        assertProblem(call("DELETE", url + "?token=" + token, null), 409, "not held");
        assertProblem(call("DELETE", url, null), 400, "'token'");
        assertProblem(call("POST", url, "{\"ttlMs\":\"soon\"}"), 400, "'ttlMs'");
        assertProblem(call("POST", url, "{\"ttlMs\":0}"), 400, "'ttlMs'");
    }

    @Test
    void eventsArePublishedWithIdsInTheWorkflowStream() {
        String workflow = ns + "-wf";
        assertJson(call("POST", "/events/workflows/" + workflow, "{\"type\":\"started\",\"data\":{\"n\":1}}"), 202, "{\"id\":1}");
        assertJson(call("POST", "/events/tasks/" + ns + "-t1", "{\"type\":\"done\",\"workflowId\":\"" + workflow + "\"}"),
                202, "{\"taskId\":\"" + ns + "-t1\",\"id\":2}");
        assertJson(call("POST", "/events/tasks/" + ns + "-t2", "{\"type\":\"alone\"}"), 202, "{\"taskId\":\"" + ns + "-t2\"}");
        assertProblem(call("POST", "/events/workflows/" + workflow, "{\"data\":1}"), 400, "'type'");
    }

    @Test
    void oversizeBodiesAre413AndUnknownPathsAreProblems() {
        String big = "{\"messages\":[\"" + "x".repeat((int) BODY_LIMIT) + "\"]}";
        assertProblem(call("POST", "/memory/" + ns + "/messages", big), 413, "larger than " + BODY_LIMIT);
        assertProblem(call("GET", "/nothing/here", null), 404, "no endpoint");
        assertProblem(call("PATCH", "/task-configs/x", "{}"), 405, "method");
    }

    // --- helpers

    private MockHttpResponse call(final String method, final String path, final String body) {
        return call(method, path, body, Map.of());
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

    private static void assertJson(final MockHttpResponse response, final int status, final String expected) {
        assertThat(response.getStatus()).as(text(response)).isEqualTo(status);
        assertThat(json(text(response))).isEqualTo(json(expected));
    }

    private static void assertProblem(final MockHttpResponse response, final int status, final String detailPart) {
        assertThat(response.getStatus()).as(text(response)).isEqualTo(status);
        assertThat(String.valueOf(response.getOutputHeaders().getFirst("Content-Type"))).startsWith("application/problem+json");
        JsonObject problem = json(text(response));
        assertThat(problem.getString("type")).startsWith("urn:compozy:cache:problem:");
        assertThat(problem.getString("title")).isNotBlank();
        assertThat(problem.getInt("status")).isEqualTo(status);
        assertThat(problem.getString("detail")).containsIgnoringCase(detailPart);
    }

    private static String text(final MockHttpResponse response) {
        return new String(response.getOutput(), StandardCharsets.UTF_8);
    }

    private static JsonObject json(final String text) {
        try (JsonReader reader = Json.createReader(new StringReader(text))) {
            return reader.readObject();
        }
    }

    private static String sha256(final String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
