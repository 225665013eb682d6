package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.notification.NotificationSystem;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;

/**
 * Ends executions whose runner is gone. An execution holds its lock from the moment it is queued until
 * its run ends (WorkflowRunner), so one that is {@code queued} or {@code running} with a free lock was
 * left by a stop, a crash or a failed final write. It is marked {@code failed} with
 * {@code error.reason = "interrupted"}, its pending tasks {@code skipped}, and a {@code workflow.failed}
 * event is sent so that followers stop waiting. Runs when the application starts and every
 * {@link #SWEEP_PERIOD} after (another server's runner may die while this one lives).
 */
@ApplicationScoped
public class InterruptedExecutions {

    private static final Logger LOG = Logger.getLogger(InterruptedExecutions.class.getName());
    static final String REASON = "interrupted";
    static final Duration SWEEP_PERIOD = Duration.ofMinutes(5);
    /** Rewrites the state only if nobody changed it since it was read (the runner may just be finishing). */
    private static final LuaScript REPLACE_IF_UNCHANGED = LuaScript.load(InterruptedExecutions.class,
            "replace_if_unchanged.lua");
    private static final Set<String> UNFINISHED = Set.of("queued", "running");

    private final RedissonClient redis;
    private final LockManager locks;
    private final ExecutionEventStream events;
    private final NotificationSystem notifications;
    private final ScheduledExecutorService scheduler;
    private ScheduledFuture<?> sweeps;

    /** For CDI's proxy only. */
    protected InterruptedExecutions() {
        this.redis = null;
        this.locks = null;
        this.events = null;
        this.notifications = null;
        this.scheduler = null;
    }

    @Inject
    public InterruptedExecutions(final RedissonClient redis, final LockManager locks,
            final ExecutionEventStream events, final NotificationSystem notifications, final StoreExecutors executors) {
        this(redis, locks, events, notifications, executors.scheduler());
    }

    public InterruptedExecutions(final RedissonClient redis, final LockManager locks,
            final ExecutionEventStream events, final NotificationSystem notifications,
            final ScheduledExecutorService scheduler) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.events = Objects.requireNonNull(events, "events");
        this.notifications = Objects.requireNonNull(notifications, "notifications");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    synchronized void start(@Observes @Initialized(ApplicationScoped.class) final Object applicationStarted) {
        // Off the deployment thread: a large keyspace must not slow the application's start.
        sweeps = scheduler.scheduleWithFixedDelay(this::sweepQuietly, 0, SWEEP_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    synchronized void stop() {
        if (sweeps != null) {
            sweeps.cancel(false);
        }
    }

    private void sweepQuietly() {
        try {
            List<String> ended = sweep();
            if (!ended.isEmpty()) {
                LOG.warning("Marked " + ended.size() + " execution(s) failed with reason '" + REASON
                        + "': their runner stopped before they finished (a server stop or crash): " + ended);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "Could not look for interrupted executions (the cache may be unavailable);"
                    + " the next sweep in " + SWEEP_PERIOD.toMinutes() + " min retries", e);
        }
    }

    /** Ends every unfinished execution whose lock is free; returns their ids. */
    public List<String> sweep() {
        List<String> ended = new ArrayList<>();
        Iterable<String> keys = redis.getKeys().getKeys(KeysScanOptions.defaults()
                .pattern(ExecutionStore.KEY_PREFIX + "*").chunkSize(500));
        for (String key : keys) {
            String execId = key.substring(ExecutionStore.KEY_PREFIX.length());
            String stored = redis.<String>getBucket(key, StringCodec.INSTANCE).get();
            JsonObject state = parse(stored);
            if (state == null || !UNFINISHED.contains(state.getString("status", ""))
                    || locks.isLocked(WorkflowRunner.lockResource(execId))) {
                continue;
            }
            JsonObject interrupted = interrupted(state, Instant.now());
            long replaced = REPLACE_IF_UNCHANGED.<Long>eval(redis, RScript.ReturnType.INTEGER, List.of(key), stored,
                    interrupted.toString());
            if (replaced == 1) {
                JsonObject event = Json.createObjectBuilder().add("status", "failed")
                        .add("error", interrupted.getJsonObject("error").getString("message"))
                        .add("reason", REASON).add("executionId", execId).build();
                // The stream's last event: refused (and not published) if the execution somehow has one.
                if (events.appendLast(execId, WorkflowRunner.WORKFLOW_FAILED, event).isPresent()) {
                    notifications.publishWorkflow(execId, WorkflowRunner.WORKFLOW_FAILED, event);
                }
                ended.add(execId);
            }
        }
        return ended;
    }

    private static JsonObject parse(final String stored) {
        if (stored == null) {
            return null; // expired between SCAN and GET
        }
        try (var reader = Json.createReader(new StringReader(stored))) {
            JsonValue value = reader.readValue();
            return value instanceof JsonObject object ? object : null;
        } catch (RuntimeException e) {
            return null; // not an execution this runner wrote: leave it alone
        }
    }

    /** The state with status failed, reason interrupted, unfinished tasks ended. */
    static JsonObject interrupted(final JsonObject state, final Instant now) {
        JsonObjectBuilder result = Json.createObjectBuilder(state)
                .add("status", "failed")
                .add("finishedAt", now.toString())
                .add("error", Json.createObjectBuilder().add("reason", REASON)
                        .add("message", "interrupted: the server running this execution stopped before it finished"
                                + " (stop, crash or lost connection); it was not resumed"));
        JsonArrayBuilder tasks = Json.createArrayBuilder();
        for (JsonValue task : state.getJsonArray("tasks") == null ? List.<JsonValue>of() : state.getJsonArray("tasks")) {
            JsonObject run = task.asJsonObject();
            String status = run.getString("status", "");
            tasks.add(switch (status) {
                case "pending" -> Json.createObjectBuilder(run).add("status", "skipped").build();
                case "running" -> Json.createObjectBuilder(run).add("status", "failed").add("error", REASON).build();
                default -> run;
            });
        }
        return result.add("tasks", tasks).build();
    }
}
