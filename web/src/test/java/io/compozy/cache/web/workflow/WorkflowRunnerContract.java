package io.compozy.cache.web.workflow;

import static io.compozy.cache.web.workflow.WorkflowDefinitionTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.DeliveryQueue;
import io.compozy.cache.web.store.StoreContract;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.HeldLock;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.notification.Notification;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The runner over the real stores, on one backend: what an execution leaves in each of them. */
public abstract class WorkflowRunnerContract extends StoreContract {

    /** agent, then uppercase, then word_count: "hello world" gives {"text":"SURE: HELLO WORLD","words":3}. */
    static final String PIPELINE = """
            {"tasks":[{"id":"agent","kind":"agent","reply":"Sure: {input}"},
                      {"id":"shout","kind":"tool","tool":"uppercase"},
                      {"id":"count","kind":"tool","tool":"word_count"}]}""";
    static final List<String> PIPELINE_EVENTS = List.of("workflow.started", "task.started", "task.succeeded",
            "task.started", "task.succeeded", "task.started", "task.succeeded", "workflow.succeeded");

    private ExecutorService runnerPool;
    private ExecutionStore executions;
    private ExecutionEventStream events;
    private NotificationSystem notifications;
    private MemoryStore memory;
    private TaskConfigStore configs;
    private LockManager locks;
    private WorkflowDefinitions definitions;
    private WorkflowRunner runner;
    private final AtomicInteger ids = new AtomicInteger();
    private final List<DeliveryQueue<?>> subscriptions = new ArrayList<>();

    @BeforeEach
    void createRunner() {
        runnerPool = Executors.newFixedThreadPool(8);
        locks = new LockManager(redis, scheduler);
        executions = new ExecutionStore(redis, Duration.ofHours(1));
        events = new ExecutionEventStream(redis, delivery, 1000);
        notifications = new NotificationSystem(redis, delivery, 1000);
        memory = new MemoryStore(redis, "memory:");
        configs = new TaskConfigStore(redis, Duration.ofHours(1));
        definitions = new WorkflowDefinitions(new ResourceStore(redis, scheduler, ns, Duration.ofSeconds(30)));
        runner = new WorkflowRunner(definitions, executions, memory, configs, locks, notifications, events,
                new WebhookIdempotency(redis, Duration.ofMinutes(10), "idempotency_key"), runnerPool,
                () -> ns + "-exec-" + ids.incrementAndGet());
        definitions.putAll(ns, json("{\"pipeline\":" + PIPELINE + ",\"broken\":{\"tasks\":["
                + "{\"id\":\"pick\",\"kind\":\"tool\",\"tool\":\"json_pick\",\"with\":{\"field\":\"message.text\"}},"
                + "{\"id\":\"agent\",\"kind\":\"agent\"}]}}").asJsonObject());
    }

    @AfterEach
    void stopRunner() throws InterruptedException {
        subscriptions.forEach(DeliveryQueue::close);
        runnerPool.shutdown();
        assertThat(runnerPool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aWorkflowRunsEndToEndThroughEveryStore() {
        List<Notification> workflowChannel = subscribe("workflow:" + ns + "-exec-*");
        List<Notification> taskChannels = subscribe("task:" + ns + "-exec-*");

        String execId = runner.start(ns, "pipeline", Json.createValue("hello world"), null);
        JsonObject state = awaitFinished(execId);

        assertThat(state.getString("status")).isEqualTo("succeeded");
        assertThat(state.get("output")).isEqualTo(json("{\"text\":\"SURE: HELLO WORLD\",\"words\":3}"));
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class))
                .extracting(t -> t.getString("id"), t -> t.getString("status"), t -> t.get("output"))
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("agent", "succeeded", Json.createValue("Sure: hello world")),
                        org.assertj.core.groups.Tuple.tuple("shout", "succeeded", Json.createValue("SURE: HELLO WORLD")),
                        org.assertj.core.groups.Tuple.tuple("count", "succeeded", json("{\"text\":\"SURE: HELLO WORLD\",\"words\":3}")));
        assertThat(state.getJsonArray("tasks").getJsonObject(0).getInt("tokens")).isEqualTo(2 + 3); // "hello world", "Sure: hello world"
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class))
                .allSatisfy(t -> assertThat(t.getJsonNumber("durationMs").longValue()).isNotNegative());
        assertThat(state.getString("startedAt")).isNotEmpty();

        String conversation = "execution:" + execId;
        assertThat(memory.readAll(conversation)).extracting(m -> m.asJsonObject().getString("role") + ": "
                + m.asJsonObject().getString("content")).containsExactly("user: hello world", "assistant: Sure: hello world");
        assertThat(memory.metadata(conversation)).isEqualTo(Map.of("token_count", 5L, "message_count", 2L));
        assertThat(redis.getList(memory.fullKey(conversation)).remainTimeToLive()).as("expires with the execution").isPositive();

        JsonObject agentConfig = configs.get(execId + ".agent").orElseThrow().asJsonObject();
        assertThat(agentConfig.getJsonObject("task").getString("reply")).isEqualTo("Sure: {input}");
        assertThat(agentConfig.get("input")).isEqualTo(Json.createValue("hello world"));
        assertThat(configs.get(execId + ".count").orElseThrow().asJsonObject().get("input"))
                .isEqualTo(Json.createValue("SURE: HELLO WORLD"));

        List<ExecutionEvent> logged = events.replayAfter(execId, 0);
        assertThat(logged).extracting(ExecutionEvent::type).containsExactlyElementsOf(PIPELINE_EVENTS);
        assertThat(logged).extracting(ExecutionEvent::id).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        assertThat(events.replayAfter(execId, 6)).extracting(ExecutionEvent::type)
                .containsExactly("task.succeeded", "workflow.succeeded");

        await().atMost(Duration.ofSeconds(10)).until(() -> workflowChannel.size() == PIPELINE_EVENTS.size());
        assertThat(workflowChannel).extracting(Notification::type).containsExactlyElementsOf(PIPELINE_EVENTS);
        assertThat(workflowChannel).extracting(Notification::channel).containsOnly("workflow:" + execId);
        await().atMost(Duration.ofSeconds(10)).until(() -> taskChannels.size() == 6);
        assertThat(taskChannels).extracting(Notification::channel).containsExactly("task:" + execId + ".agent",
                "task:" + execId + ".agent", "task:" + execId + ".shout", "task:" + execId + ".shout",
                "task:" + execId + ".count", "task:" + execId + ".count");

        assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).as("a finished execution holds no lock").isFalse();
    }

    /** "{input}{input}" at every task: the data doubles until a task's output passes its limit, named. */
    @Test
    void aWorkflowThatDoublesItsDataAtEveryTaskStopsAtTheOutputLimitNamingTheKey() {
        StringBuilder tasks = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            tasks.append(i == 0 ? "" : ",").append("{\"id\":\"t").append(i).append("\",\"kind\":\"agent\",")
                    .append("\"reply\":\"{input}{input}\"}");
        }
        definitions.putAll(ns, json("{\"doubling\":{\"tasks\":[" + tasks + "]}}").asJsonObject());
        String execId = runner.start(ns, "doubling", Json.createValue("ab"), null);
        JsonObject state = awaitFinished(execId);

        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getJsonObject("error").getString("task")).isEqualTo("t19");
        assertThat(state.getJsonObject("error").getString("message")).contains("bytes",
                WorkflowLimits.MAX_TASK_OUTPUT_BYTES_KEY);
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class)).filteredOn(t -> t.getString("status")
                .equals("succeeded")).hasSize(19);
        // Nothing of the refused reply was kept: the conversation ends with the last reply within the limit.
        List<JsonValue> conversation = memory.readAll("execution:" + execId);
        assertThat(conversation).hasSize(2 * 19);
    }

    @Test
    void aDefinitionWithMoreTasksThanTheLimitIsRefusedNamingTheKeyAndNothingIsStored() {
        StringBuilder tasks = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            tasks.append(i == 0 ? "" : ",").append("{\"id\":\"t").append(i).append("\",\"kind\":\"agent\"}");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> definitions.putAll(ns,
                        json("{\"long\":{\"tasks\":[" + tasks + "]}}").asJsonObject()))
                .hasMessageContaining("65 tasks").hasMessageContaining(WorkflowLimits.MAX_TASKS_KEY);
        assertThat(definitions.list(ns)).extracting(r -> r.key().id()).doesNotContain("long");
    }

    @Test
    void aFailingTaskFailsTheExecutionWithItsErrorAndRunsNothingAfterIt() {
        String execId = runner.start(ns, "broken", json("{\"message\":{\"id\":1}}"), null);
        JsonObject state = awaitFinished(execId);

        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getJsonObject("error").getString("task")).isEqualTo("pick");
        assertThat(state.getJsonObject("error").getString("message"))
                .isEqualTo("task 'pick' failed: json_pick: the input has no field 'message.text' (it has: id)");
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class)).extracting(t -> t.getString("status"))
                .containsExactly("failed", "skipped");
        assertThat(state.containsKey("output")).isFalse();
        assertThat(events.replayAfter(execId, 0)).extracting(ExecutionEvent::type)
                .containsExactly("workflow.started", "task.started", "task.failed", "workflow.failed");
        assertThat(events.replayAfter(execId, 3).get(0).data().asJsonObject().getString("error"))
                .contains("no field 'message.text'");
        assertThat(memory.count("execution:" + execId)).as("the skipped agent wrote nothing").isZero();
        assertThat(configs.get(execId + ".agent")).isEmpty();
        assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).isFalse();
    }

    @Test
    void anExecutionWhoseLockIsHeldElsewhereIsNeitherWrittenNorRun() {
        String nextId = ns + "-exec-" + (ids.get() + 1);
        HeldLock other = locks.tryAcquire(WorkflowRunner.lockResource(nextId), Duration.ofSeconds(30)).orElseThrow();
        try {
            assertThatThrownBy(() -> runner.start(ns, "pipeline", Json.createValue("x"), null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(nextId + " is already locked");
            assertThat(executions.find(nextId)).isEmpty();
            assertThat(configs.get(nextId + ".agent")).isEmpty();
            assertThat(other.isHeld()).as("the other holder keeps its lock").isTrue();
        } finally {
            other.release();
        }
    }

    @Test
    void aQueuedExecutionHoldsItsLockUntilItEnds() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ExecutorService gated = Executors.newSingleThreadExecutor();
        try {
            gated.execute(() -> awaitQuietly(release)); // the only thread is busy: the next execution stays queued
            String execId = runnerWith(gated, () -> ns + "-queued").start(ns, "pipeline", Json.createValue("x"), null);
            assertThat(Json.createReader(new StringReader(executions.find(execId).orElseThrow())).readObject()
                    .getString("status")).isEqualTo("queued");
            assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).as("queued, yet locked").isTrue();
            assertThat(interrupted().sweep()).as("a queued execution with its lock is not interrupted")
                    .doesNotContain(execId);
            release.countDown();
            assertThat(awaitFinished(execId).getString("status")).isEqualTo("succeeded");
            assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).isFalse();
        } finally {
            release.countDown();
            gated.shutdown();
        }
    }

    @Test
    void unfinishedExecutionsWithAFreeLockAreMarkedInterruptedOnceWithAnEvent() {
        // What a server killed mid-run leaves: state "running", a task running, one pending, no lock.
        String orphan = ns + "-orphan";
        String running = ns + "-alive";
        String state = "{\"id\":\"%s\",\"status\":\"running\",\"tasks\":[{\"id\":\"a\",\"status\":\"succeeded\"},"
                + "{\"id\":\"b\",\"status\":\"running\"},{\"id\":\"c\",\"status\":\"pending\"}]}";
        redis.getBucket(ExecutionStore.key(orphan), org.redisson.client.codec.StringCodec.INSTANCE)
                .set(state.formatted(orphan), Duration.ofHours(1));
        redis.getBucket(ExecutionStore.key(running), org.redisson.client.codec.StringCodec.INSTANCE)
                .set(state.formatted(running), Duration.ofHours(1));
        HeldLock alive = locks.tryAcquire(WorkflowRunner.lockResource(running), Duration.ofSeconds(30)).orElseThrow();
        List<Notification> workflowChannel = subscribe("workflow:" + orphan);
        try {
            assertThat(interrupted().sweep()).contains(orphan).doesNotContain(running);

            JsonObject ended = Json.createReader(new StringReader(executions.find(orphan).orElseThrow())).readObject();
            assertThat(ended.getString("status")).isEqualTo("failed");
            assertThat(ended.getJsonObject("error").getString("reason")).isEqualTo("interrupted");
            assertThat(ended.getString("finishedAt")).isNotEmpty();
            assertThat(ended.getJsonArray("tasks").getValuesAs(JsonObject.class)).extracting(t -> t.getString("status"))
                    .containsExactly("succeeded", "failed", "skipped");
            assertThat(redis.getBucket(ExecutionStore.key(orphan)).remainTimeToLive()).as("TTL kept").isPositive();
            assertThat(events.replayAfter(orphan, 0)).extracting(ExecutionEvent::type).containsExactly("workflow.failed");
            await().atMost(Duration.ofSeconds(10)).until(() -> workflowChannel.size() == 1);
            assertThat(Json.createReader(new StringReader(executions.find(running).orElseThrow())).readObject()
                    .getString("status")).as("a locked execution is left to its runner").isEqualTo("running");
            assertThat(interrupted().sweep()).as("ended once").doesNotContain(orphan);
        } finally {
            alive.release();
        }
    }

    @Test
    void theFinalStateIsWrittenEvenWhenEndingItsConversationFails() {
        // An id the memory store refuses as a key ("...:metadata"): ending the execution's own
        // conversation throws, and the final state must be written all the same.
        String execId = runnerWith(runnerPool, () -> ns + "-x:metadata")
                .start(ns, "broken", json("{\"message\":{\"id\":1}}"), null);
        JsonObject state = awaitFinished(execId);
        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getString("finishedAt")).isNotEmpty();
        assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).isFalse();
    }

    @Test
    void aWebhookDeliveryTheExecutorRefusesCanBeRetried() {
        JsonValue payload = json("{\"idempotency_key\":\"refused-1\",\"message\":{\"text\":\"hi\"}}");
        ExecutorService stopped = Executors.newSingleThreadExecutor();
        stopped.shutdown(); // what a stopping server's executor does: refuse
        assertThatThrownBy(() -> runnerWith(stopped, () -> ns + "-refused").startFromWebhook(ns, "broken", null, payload))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        assertThat(locks.isLocked(WorkflowRunner.lockResource(ns + "-refused"))).isFalse();

        String retried = runner.startFromWebhook(ns, "broken", null, payload).orElseThrow();
        assertThat(awaitFinished(retried).getString("status")).isEqualTo("succeeded");
        assertThat(runner.startFromWebhook(ns, "broken", null, payload)).as("accepted once, then a duplicate").isEmpty();
    }

    private WorkflowRunner runnerWith(final java.util.concurrent.Executor executor,
            final java.util.function.Supplier<String> id) {
        return new WorkflowRunner(definitions, executions, memory, configs, locks, notifications, events,
                new WebhookIdempotency(redis, Duration.ofMinutes(10), "idempotency_key"), executor, id);
    }

    private InterruptedExecutions interrupted() {
        return new InterruptedExecutions(redis, locks, events, notifications, scheduler);
    }

    private static void awaitQuietly(final java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aDuplicateWebhookDeliveryStartsNothing() {
        JsonValue payload = json("{\"idempotency_key\":\"delivery-1\",\"message\":{\"text\":\"hi there\"}}");

        String first = runner.startFromWebhook(ns, "broken", null, payload).orElseThrow();
        assertThat(runner.startFromWebhook(ns, "broken", null, payload)).isEmpty();
        assertThat(runner.startFromWebhook(ns, "broken", "delivery-1", json("{}"))).as("the header names the same key").isEmpty();

        JsonObject state = awaitFinished(first);
        assertThat(state.getString("status")).isEqualTo("succeeded");
        assertThat(state.get("output")).isEqualTo(Json.createValue("Noted: hi there"));
        assertThat(state.getJsonObject("trigger")).isEqualTo(json("{\"kind\":\"webhook\",\"idempotencyKey\":\"delivery-1\"}"));
        assertThat(ids.get()).as("one execution id was ever taken").isEqualTo(1);
        assertThat(executions.find(ns + "-exec-2")).isEmpty();
    }

    @Test
    void unknownAndInvalidWorkflowsStartNothing() {
        assertThatThrownBy(() -> runner.start(ns, "nope", JsonValue.NULL, null))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_FOUND))
                .hasMessage("workflow 'nope' does not exist in project '" + ns + "'; load it with POST /api/workflows/" + ns);
        new ResourceStore(redis, scheduler, ns, Duration.ofSeconds(30))
                .put(io.compozy.cache.web.store.resource.ResourceKey.of(ns, "workflow", "bad"), json("{\"tasks\":[]}"));
        assertThatThrownBy(() -> runner.startFromWebhook(ns, "bad", "k1", JsonValue.NULL))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INVALID_ARGUMENT))
                .hasMessageContaining("workflow 'bad' needs a non-empty 'tasks' array");
        assertThat(ids.get()).isZero();
        assertThat(redis.getBucket("idempotency:webhook:" + WorkflowRunner.webhookNamespace(ns, "bad") + ":k1").isExists())
                .as("a refused delivery uses up no key").isFalse();
    }

    @Test
    void aSweepRunningWhileExecutionsFinishNeverTakesOneForInterrupted() throws Exception {
        // The sweep ends unfinished executions whose lock is free: a runner must not free its lock while
        // its state still says running, or a sweep in that moment sends a false workflow.failed.
        java.util.concurrent.atomic.AtomicBoolean sweeping = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<String> wronglyEnded = new CopyOnWriteArrayList<>();
        Thread sweeper = new Thread(() -> {
            while (sweeping.get()) {
                wronglyEnded.addAll(interrupted().sweep());
            }
        });
        sweeper.start();
        try {
            List<String> started = IntStream.range(0, 100)
                    .mapToObj(i -> runner.start(ns, "pipeline", Json.createValue("m" + i), null)).toList();
            List<JsonObject> states = started.stream().map(this::awaitFinished).toList();
            assertThat(states).extracting(s -> s.getString("status")).containsOnly("succeeded");
        } finally {
            sweeping.set(false);
            sweeper.join();
        }
        assertThat(wronglyEnded).as("executions a sweep took for interrupted while they finished").isEmpty();
    }

    @Test
    void fiftyConcurrentExecutionsSharingFiveConversationsLoseNothing() {
        List<Notification> workflowChannel = subscribe("workflow:" + ns + "-exec-*");
        List<String> started = IntStream.range(0, 50).parallel()
                .mapToObj(i -> runner.start(ns, "pipeline", Json.createValue("message " + i), ns + "-conversation-" + (i % 5)))
                .toList();

        List<JsonObject> states = started.stream().map(this::awaitFinished).toList();

        assertThat(states).extracting(s -> s.getString("status")).containsOnly("succeeded");
        for (String execId : started) {
            assertThat(events.replayAfter(execId, 0)).extracting(ExecutionEvent::type).containsExactlyElementsOf(PIPELINE_EVENTS);
            assertThat(locks.isLocked(WorkflowRunner.lockResource(execId))).isFalse();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> workflowChannel.size() >= 50 * PIPELINE_EVENTS.size());
        assertThat(workflowChannel).hasSize(50 * PIPELINE_EVENTS.size());
        assertThat(workflowChannel.stream().collect(Collectors.groupingBy(Notification::channel, Collectors.counting())))
                .hasSize(50).allSatisfy((channel, count) -> assertThat(count).isEqualTo(PIPELINE_EVENTS.size()));
        for (int k = 0; k < 5; k++) {
            String conversation = ns + "-conversation-" + k;
            // ten executions, one agent turn each: "message N" (2 words) + "Sure: message N" (3 words)
            assertThat(memory.metadata(conversation)).isEqualTo(Map.of("message_count", 20L, "token_count", 50L));
            assertThat(memory.count(conversation)).isEqualTo(20);
        }
    }

    private List<Notification> subscribe(final String pattern) {
        List<Notification> received = new CopyOnWriteArrayList<>();
        subscriptions.add(notifications.subscribePattern(pattern, received::add));
        return received;
    }

    /** The final state, once the execution's last event is logged too (the state is written just before it). */
    private JsonObject awaitFinished(final String execId) {
        JsonObject state = await().atMost(Duration.ofSeconds(60)).until(
                () -> Json.createReader(new StringReader(executions.find(execId).orElseThrow())).readObject(),
                s -> List.of("succeeded", "failed").contains(s.getString("status")));
        await().atMost(Duration.ofSeconds(10)).until(() -> events.replayAfter(execId, 0).stream()
                .anyMatch(e -> e.type().equals(WorkflowRunner.WORKFLOW_SUCCEEDED)
                        || e.type().equals(WorkflowRunner.WORKFLOW_FAILED)));
        return state;
    }
}
