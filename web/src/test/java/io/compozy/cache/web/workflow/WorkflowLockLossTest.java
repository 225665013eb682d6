package io.compozy.cache.web.workflow;

import static io.compozy.cache.web.workflow.WorkflowDefinitionTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.ProxiedRedis;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.TestBackend;
import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.redisson.api.RedissonClient;

/**
 * A runner that loses its execution lock while it runs (what Redis away for longer than the lock's TTL, or a
 * failover, does). The runner's client goes through a fault proxy that holds its replies, so the run waits
 * at a write of its own while the lock goes and, in the first case, a sweep ends the execution. Whatever the
 * order, the execution must end once: one terminal state, never rewritten, and one last event, after which
 * nothing is logged.
 */
class WorkflowLockLossTest {

    @RegisterExtension
    static final ProxiedRedis redis = new ProxiedRedis();
    private final String ns = "lock-loss-" + UUID.randomUUID().toString().substring(0, 8);
    private final AtomicInteger ids = new AtomicInteger();
    private final List<Runnable> queued = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService scheduler;
    private ExecutorService delivery;
    private ExecutionStore directExecutions;
    private ExecutionEventStream directEvents;

    @BeforeEach
    void directView() {
        scheduler = Executors.newScheduledThreadPool(2, StoreExecutors.daemonThreads("lock-loss-scheduler"));
        delivery = Executors.newCachedThreadPool(StoreExecutors.daemonThreads("lock-loss-delivery"));
        directExecutions = new ExecutionStore(redis.direct(), Duration.ofHours(1));
        directEvents = new ExecutionEventStream(redis.direct(), delivery, 100);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        redis.closeClient();
        scheduler.shutdownNow();
        delivery.shutdownNow();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
        TestBackend.deleteKeysContaining(redis.direct(), ns);
    }

    @Test
    void anExecutionASweepEndedWhileItsRunnerWaitedIsNeitherRewrittenNorContinued() throws Exception {
        redis.reconnect();
        LockManager locks = new LockManager(redis.client(), scheduler);
        WorkflowRunner runner = runner(redis.client(), locks);
        String execId = startHeld(runner);
        Thread run = runQueued();
        await().atMost(Duration.ofMinutes(2)).until(() -> state(execId).getString("status").equals("running"));

        // The lock goes (its TTL ran out while Redis was away, or a failover lost it) and a sweep, seeing a
        // running execution with a free lock, ends it as interrupted; then the runner's reply arrives.
        redis.direct().getBucket(lockKey(execId)).delete();
        InterruptedExecutions sweep = new InterruptedExecutions(redis.direct(), new LockManager(redis.direct(), scheduler),
                directEvents, new NotificationSystem(redis.direct(), delivery, 100), scheduler);
        assertThat(sweep.sweep()).containsExactly(execId);
        redis.proxy().releaseReplies();
        run.join();

        JsonObject state = state(execId);
        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getJsonObject("error").getString("reason")).as("the sweep's end stands").isEqualTo("interrupted");
        assertEndedOnceLast(execId);
    }

    @Test
    void aRunnerWhoseLockIsLostStopsAndEndsTheExecutionOnceAsInterrupted() throws Exception {
        redis.reconnect(Optional.of(Duration.ofMinutes(5))); // the run waits for the held reply, however long
        // The lock is renewed on a connection of its own, so the loss is noticed while the run's replies wait.
        LockManager locks = new LockManager(redis.direct(), scheduler);
        WorkflowRunner runner = runner(redis.client(), locks);
        String execId = startHeld(runner);
        CountDownLatch noticed = lossNoticed(lockKey(execId));
        Thread run = runQueued();

        redis.direct().getBucket(lockKey(execId)).delete();
        assertThat(noticed.await(2, TimeUnit.MINUTES)).as("the renewal noticed the loss").isTrue();
        redis.proxy().releaseReplies();
        run.join();

        JsonObject state = state(execId);
        assertThat(state.getString("status")).isEqualTo("failed");
        assertThat(state.getJsonObject("error").getString("reason")).isEqualTo("interrupted");
        assertThat(state.getJsonObject("error").getString("message")).contains("lost its lock");
        assertThat(state.getJsonArray("tasks").getValuesAs(JsonObject.class)).extracting(t -> t.getString("status"))
                .as("nothing ran after the loss").containsOnly("skipped");
        List<ExecutionEvent> events = assertEndedOnceLast(execId);
        assertThat(events.get(events.size() - 1).data().asJsonObject().getString("reason")).isEqualTo("interrupted");
        assertThat(redis.direct().getBucket(lockKey(execId)).isExists()).isFalse();
    }

    /**
     * Runs one execution to its end (so every script is loaded: a held NOSCRIPT would stop a script from
     * running), then starts one whose run is queued and holds the replies: the run, once started, waits at
     * its first write (the state "running"), which Redis runs.
     */
    private String startHeld(final WorkflowRunner runner) {
        String warm = runner.start(ns, "pipeline", Json.createValue("warm up"), null);
        runQueued();
        await().atMost(Duration.ofMinutes(2)).until(() -> directEvents.replayAfter(warm, 0).stream()
                .anyMatch(e -> e.type().equals(WorkflowRunner.WORKFLOW_SUCCEEDED)));
        String execId = runner.start(ns, "pipeline", Json.createValue("hello world"), null);
        redis.proxy().holdReplies();
        return execId;
    }

    /** Starts the oldest queued run on a thread of its own. */
    private Thread runQueued() {
        Thread thread = new Thread(queued.remove(0), "lock-loss-run");
        thread.start();
        if (!queued.isEmpty()) {
            throw new IllegalStateException("more runs queued than started");
        }
        return thread;
    }

    /** The execution has exactly one terminal event, and it is the last one logged. */
    private List<ExecutionEvent> assertEndedOnceLast(final String execId) {
        List<ExecutionEvent> events = directEvents.replayAfter(execId, 0);
        assertThat(events).extracting(ExecutionEvent::type)
                .filteredOn(t -> t.equals(WorkflowRunner.WORKFLOW_SUCCEEDED) || t.equals(WorkflowRunner.WORKFLOW_FAILED))
                .as("terminal events in " + events).containsExactly(WorkflowRunner.WORKFLOW_FAILED);
        assertThat(events.get(events.size() - 1).type()).as("nothing after the end: " + events)
                .isEqualTo(WorkflowRunner.WORKFLOW_FAILED);
        return events;
    }

    private WorkflowRunner runner(final RedissonClient client, final LockManager locks) {
        WorkflowDefinitions definitions = new WorkflowDefinitions(new ResourceStore(client, scheduler, ns,
                Duration.ofSeconds(30)));
        definitions.putAll(ns, json("{\"pipeline\":" + WorkflowRunnerContract.PIPELINE + "}").asJsonObject());
        return new WorkflowRunner(definitions, new ExecutionStore(client, Duration.ofHours(1)),
                new MemoryStore(client, "memory:"), new TaskConfigStore(client, Duration.ofHours(1)), locks,
                new NotificationSystem(client, delivery, 100), new ExecutionEventStream(client, delivery, 100),
                new WebhookIdempotency(client, Duration.ofMinutes(10), "idempotency_key"), queued::add,
                () -> ns + "-exec-" + ids.incrementAndGet());
    }

    private JsonObject state(final String execId) {
        return Json.createReader(new StringReader(directExecutions.find(execId).orElseThrow())).readObject();
    }

    private static String lockKey(final String execId) {
        return LockManager.KEY_PREFIX + WorkflowRunner.lockResource(execId);
    }

    /** Counts down when the lock manager logs that it lost {@code key} (its renewal found it gone). */
    private static CountDownLatch lossNoticed(final String key) {
        CountDownLatch latch = new CountDownLatch(1);
        Logger logger = Logger.getLogger(LockManager.class.getName());
        logger.addHandler(new Handler() {
            @Override
            public void publish(final LogRecord record) {
                String message = record.getMessage();
                if (message != null && message.contains("lost the lock '" + key + "'")) {
                    latch.countDown();
                    logger.removeHandler(this);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        return latch;
    }
}
