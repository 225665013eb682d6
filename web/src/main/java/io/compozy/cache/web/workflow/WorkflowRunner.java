package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.HeldLock;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts executions and runs them, task after task, on the managed executor, using every store as the
 * orchestration engine does.
 *
 * <p>From the moment it is queued until it ends, an execution holds {@code lock:execution:{execId}}
 * (renewed by the lock manager).
 * Each task's config goes to the task config store under its task execution id
 * {@code {execId}.{taskId}}; each step is appended to the execution event stream of {@code execId} and
 * published: workflow events on {@code workflow:{execId}}, task events on {@code task:{taskExecId}} and
 * (naming the workflow) on {@code workflow:{execId}} too. Event types: {@code workflow.started},
 * {@code task.started}, {@code task.succeeded} / {@code task.failed}, then {@code workflow.succeeded} /
 * {@code workflow.failed}.
 *
 * <p>The final state is written while the lock is still held, then the lock is released, then the last
 * event is sent: whoever gets the last event finds the state final and the lock free, and
 * InterruptedExecutions, which ends only unfinished executions whose lock is free, can never take a
 * run that is just finishing for an abandoned one.
 *
 * <p>A lock can still be lost while the run goes on (Redis away for longer than its TTL, a failover), and a
 * sweep may then end the execution as interrupted. So the run stops at its next step once the lock manager
 * reports the lock lost (it then ends the execution itself, as interrupted), and every write it makes is
 * refused in Redis once the execution has ended: the state is never rewritten after it reached succeeded or
 * failed ({@link ExecutionStore#saveUnlessEnded}), and no event follows the stream's last one
 * ({@link ExecutionEventStream#appendIfOpen}). A refused write stops the run without another word: the
 * execution ends once, in one terminal state, with one last event.
 */
@ApplicationScoped
public class WorkflowRunner {

    private static final Logger LOG = Logger.getLogger(WorkflowRunner.class.getName());

    /** The execution lock's TTL; the lock manager renews it every third of that while the execution runs. */
    static final Duration LOCK_TTL = Duration.ofSeconds(30);
    public static final String WORKFLOW_SUCCEEDED = "workflow.succeeded";
    public static final String WORKFLOW_FAILED = "workflow.failed";
    static final String LOCK_LOST_MESSAGE = "interrupted: the execution lost its lock (Redis was unreachable or"
            + " failed over for longer than the lock's TTL) and was stopped; it was not resumed";

    private final WorkflowLimits limits;
    private final WorkflowDefinitions definitions;
    private final ExecutionStore executions;
    private final MemoryStore memory;
    private final TaskConfigStore taskConfigs;
    private final LockManager locks;
    private final NotificationSystem notifications;
    private final ExecutionEventStream events;
    private final WebhookIdempotency webhooks;
    private final Executor executor;
    private final Supplier<String> newExecutionId;

    /** For CDI's proxy only. */
    protected WorkflowRunner() {
        this.limits = null;
        this.definitions = null;
        this.executions = null;
        this.memory = null;
        this.taskConfigs = null;
        this.locks = null;
        this.notifications = null;
        this.events = null;
        this.webhooks = null;
        this.executor = null;
        this.newExecutionId = null;
    }

    @Inject
    public WorkflowRunner(final WorkflowDefinitions definitions, final ExecutionStore executions,
            final MemoryStore memory, final TaskConfigStore taskConfigs, final LockManager locks,
            final NotificationSystem notifications, final ExecutionEventStream events,
            final WebhookIdempotency webhooks, final ManagedWorkflowExecutor managed, final WorkflowLimits limits) {
        this(definitions, executions, memory, taskConfigs, locks, notifications, events, webhooks, managed.executor(),
                () -> UUID.randomUUID().toString(), limits);
    }

    /** With the default {@link WorkflowLimits}. */
    public WorkflowRunner(final WorkflowDefinitions definitions, final ExecutionStore executions,
            final MemoryStore memory, final TaskConfigStore taskConfigs, final LockManager locks,
            final NotificationSystem notifications, final ExecutionEventStream events,
            final WebhookIdempotency webhooks, final Executor executor, final Supplier<String> newExecutionId) {
        this(definitions, executions, memory, taskConfigs, locks, notifications, events, webhooks, executor,
                newExecutionId, new WorkflowLimits());
    }

    /**
     * @param executor runs the executions; its owner shuts it down
     * @param newExecutionId gives a fresh, unique execution id per call
     */
    public WorkflowRunner(final WorkflowDefinitions definitions, final ExecutionStore executions,
            final MemoryStore memory, final TaskConfigStore taskConfigs, final LockManager locks,
            final NotificationSystem notifications, final ExecutionEventStream events,
            final WebhookIdempotency webhooks, final Executor executor, final Supplier<String> newExecutionId,
            final WorkflowLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.definitions = Objects.requireNonNull(definitions, "definitions");
        this.executions = Objects.requireNonNull(executions, "executions");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.taskConfigs = Objects.requireNonNull(taskConfigs, "taskConfigs");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.notifications = Objects.requireNonNull(notifications, "notifications");
        this.events = Objects.requireNonNull(events, "events");
        this.webhooks = Objects.requireNonNull(webhooks, "webhooks");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.newExecutionId = Objects.requireNonNull(newExecutionId, "newExecutionId");
    }

    /** The lock an execution holds while it runs: {@code execution:{execId}} (key {@code lock:execution:{execId}}). */
    public static String lockResource(final String execId) {
        return "execution:" + execId;
    }

    /**
     * Queues an execution of a stored workflow and returns its id at once.
     *
     * @param memoryKey the conversation its agents append to; null gives {@code execution:{execId}}
     * @throws StoreException {@code NOT_FOUND} for an unknown workflow, {@code INVALID_ARGUMENT} for an
     *     invalid definition
     */
    public String start(final String project, final String workflowId, final JsonValue input, final String memoryKey) {
        return start(definitions.get(project, workflowId), project, input, memoryKey,
                Json.createObjectBuilder().add("kind", "api").build());
    }

    /**
     * Starts an execution for a webhook delivery unless its idempotency key was seen within the webhook
     * TTL (namespace {@code workflow:{project}:{id}}): a duplicate starts nothing and gives empty.
     * The definition is checked first, so a delivery to an unknown or invalid workflow uses up no key.
     */
    public Optional<String> startFromWebhook(final String project, final String workflowId,
            final String idempotencyHeader, final JsonValue payload) {
        WorkflowDefinitions.Loaded loaded = definitions.get(project, workflowId);
        String key = webhooks.idempotencyKey(idempotencyHeader, payload);
        String namespace = webhookNamespace(project, workflowId);
        if (!webhooks.firstDelivery(namespace, key)) {
            return Optional.empty();
        }
        try {
            return Optional.of(start(loaded, project, payload, null,
                    Json.createObjectBuilder().add("kind", "webhook").add("idempotencyKey", key).build()));
        } catch (RuntimeException e) {
            // Nothing was accepted: the sender's retry must start it, not get 409 for a run that never was.
            try {
                webhooks.forget(namespace, key);
            } catch (RuntimeException forgetting) {
                e.addSuppressed(forgetting);
            }
            throw e;
        }
    }

    public static String webhookNamespace(final String project, final String workflowId) {
        return "workflow:" + project + ":" + workflowId;
    }

    private String start(final WorkflowDefinitions.Loaded loaded, final String project, final JsonValue input,
            final String memoryKey, final JsonObject trigger) {
        String execId = newExecutionId.get();
        WorkflowDefinition definition = loaded.definition();
        String conversation = memoryKey == null ? "execution:" + execId : StoreException.requireText(memoryKey, "memoryKey");
        Execution execution = new Execution(execId, project, definition.id(), loaded.etag(),
                input == null ? JsonValue.NULL : input, conversation, trigger, definition.tasks());
        // Held from before the state exists until the run ends: a queued or running execution whose lock
        // is free has lost its runner (InterruptedExecutions ends it).
        HeldLock lock = locks.tryAcquire(lockResource(execId), LOCK_TTL).orElseThrow(
                () -> new IllegalStateException("execution id " + execId + " is already locked"));
        boolean handedOver = false;
        try {
            if (!executions.create(execution)) {
                throw new IllegalStateException("execution id " + execId + " is already taken");
            }
            try {
                executor.execute(() -> run(execution, definition, lock));
                handedOver = true;
            } catch (RejectedExecutionException e) {
                execution.status = Execution.Status.FAILED;
                execution.error = "the server's executor refused the execution (is the server stopping?)";
                execution.finishedAt = Instant.now();
                executions.saveUnlessEnded(execution);
                throw e;
            }
        } finally {
            if (!handedOver) {
                releaseQuietly(lock, execId);
            }
        }
        return execId;
    }

    /**
     * Runs every task in order on the calling (managed) thread, then writes the final state whatever
     * happened: no exception leaves an execution {@code running}.
     */
    void run(final Execution execution, final WorkflowDefinition definition, final HeldLock lock) {
        boolean endedElsewhere = false;
        try {
            execution.status = Execution.Status.RUNNING;
            execution.startedAt = Instant.now();
            save(execution, lock);
            workflowEvent(execution, lock, "workflow.started", Json.createObjectBuilder()
                    .add("workflow", execution.workflow).add("input", execution.input));
            runTasks(execution, lock, definition.tasks());
        } catch (LockLost e) {
            LOG.warning("execution " + execution.id + " lost its lock (" + lock.key() + "; Redis was away or failed"
                    + " over for longer than its " + LOCK_TTL.toSeconds() + " s TTL): stopping it as " + InterruptedExecutions.REASON);
            fail(execution, null, LOCK_LOST_MESSAGE);
            execution.errorReason = InterruptedExecutions.REASON;
        } catch (EndedElsewhere e) {
            endedElsewhere = true;
            LOG.warning("execution " + execution.id + " was ended by another writer while it ran (its lock was lost,"
                    + " and a sweep took it for interrupted): this runner stops and writes nothing more");
        } catch (RuntimeException | Error e) {
            String incident = UUID.randomUUID().toString();
            LOG.log(Level.SEVERE, "execution " + execution.id + " failed unexpectedly, incident " + incident, e);
            fail(execution, null, "an unexpected error stopped the execution; the server log has it under incident "
                    + incident);
        } finally {
            finish(execution, lock, endedElsewhere);
        }
    }

    private static void releaseQuietly(final HeldLock lock, final String execId) {
        try {
            lock.release();
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "the lock of execution " + execId + " was lost before its release", e);
        }
    }

    private void runTasks(final Execution execution, final HeldLock lock, final List<WorkflowDefinition.Task> tasks) {
        JsonValue current = execution.input;
        long outputBytes = 0;
        for (int i = 0; i < tasks.size(); i++) {
            WorkflowDefinition.Task task = tasks.get(i);
            Execution.TaskRun run = execution.tasks.get(i);
            stopIfLost(lock);
            taskConfigs.save(run.taskExecId, Json.createObjectBuilder()
                    .add("workflowExecId", execution.id)
                    .add("project", execution.project)
                    .add("workflow", execution.workflow)
                    .add("taskExecId", run.taskExecId)
                    .add("task", task.config())
                    .add("input", current)
                    .build());
            run.status = Execution.Status.RUNNING;
            run.startedAt = Instant.now();
            save(execution, lock);
            taskEvent(execution, lock, run, "task.started", Json.createObjectBuilder().add("input", current));
            try {
                stopIfLost(lock);
                current = perform(execution, task, run, current, outputBytes);
                outputBytes += limits.checkOutput(run.taskId, current, outputBytes);
            } catch (TaskFailure e) {
                run.status = Execution.Status.FAILED;
                run.finishedAt = Instant.now();
                run.error = e.getMessage();
                fail(execution, run.taskId, "task '" + run.taskId + "' failed: " + e.getMessage());
                taskEvent(execution, lock, run, "task.failed", Json.createObjectBuilder().add("error", e.getMessage()));
                return;
            }
            run.status = Execution.Status.SUCCEEDED;
            run.finishedAt = Instant.now();
            run.output = current;
            save(execution, lock);
            JsonObjectBuilder data = Json.createObjectBuilder().add("output", current)
                    .add("durationMs", Duration.between(run.startedAt, run.finishedAt).toMillis());
            if (run.tokens >= 0) {
                data.add("tokens", run.tokens);
            }
            taskEvent(execution, lock, run, "task.succeeded", data);
        }
        execution.output = current;
        execution.status = Execution.Status.SUCCEEDED;
    }

    private JsonValue perform(final Execution execution, final WorkflowDefinition.Task task, final Execution.TaskRun run,
            final JsonValue input, final long outputBytesBefore) {
        return switch (task.kind()) {
            case TOOL -> Tools.run(task.tool(), task.with(), input);
            case AGENT -> {
                DeterministicAgent.Turn turn = DeterministicAgent.answer(task.reply(), input);
                // Checked before the conversation keeps it: an oversized reply is stored nowhere.
                limits.checkOutput(run.taskId, Json.createValue(turn.reply()), outputBytesBefore);
                memory.append(execution.memoryKey, List.of(message("user", turn.input(), execution, task),
                        message("assistant", turn.reply(), execution, task)), turn.tokens(), 0);
                run.tokens = turn.tokens();
                yield Json.createValue(turn.reply());
            }
        };
    }

    private static JsonValue message(final String role, final String content, final Execution execution,
            final WorkflowDefinition.Task task) {
        return Json.createObjectBuilder().add("role", role).add("content", content)
                .add("execution", execution.id).add("task", task.id()).build();
    }

    private static void fail(final Execution execution, final String taskId, final String message) {
        execution.status = Execution.Status.FAILED;
        execution.failedTask = taskId;
        execution.error = message;
        for (Execution.TaskRun run : execution.tasks) {
            if (run.status == Execution.Status.PENDING) {
                run.status = Execution.Status.SKIPPED;
            } else if (run.status == Execution.Status.RUNNING) { // the run stopped in it
                run.status = Execution.Status.FAILED;
                run.finishedAt = Instant.now();
                run.error = InterruptedExecutions.REASON;
            }
        }
    }

    /**
     * Writes the final state first (the lock still held), then releases the lock, then sends the last
     * event, then ends the conversation's life: the state is what must not be lost, and whoever follows
     * the events finds the state final and the lock free when the last one arrives. A failure here is
     * logged; the state write is retried once (it is safe to repeat), and if it still fails the execution
     * stays unfinished with a free lock, which InterruptedExecutions ends. An execution that another writer
     * ended (or whose final write is refused because it did) gets neither a state nor a last event from here.
     */
    private void finish(final Execution execution, final HeldLock lock, final boolean endedElsewhere) {
        execution.finishedAt = Instant.now();
        boolean endsHere = !endedElsewhere;
        try {
            if (endsHere && !saveFinalState(execution)) {
                endsHere = false;
                LOG.warning("execution " + execution.id + " was ended by another writer (a sweep took it for"
                        + " interrupted after its lock was lost): its " + execution.status.wireName()
                        + " end is not written");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "execution " + execution.id + " ended " + execution.status.wireName()
                    + " but its final state could not be written", e);
        } finally {
            releaseQuietly(lock, execution.id);
        }
        if (endsHere) {
            lastEvent(execution);
        }
        endConversation(execution);
    }

    private void lastEvent(final Execution execution) {
        try {
            JsonObjectBuilder data = Json.createObjectBuilder().add("status", execution.status.wireName())
                    .add("durationMs", Duration.between(execution.startedAt == null ? execution.createdAt
                            : execution.startedAt, execution.finishedAt).toMillis());
            if (execution.output != null) {
                data.add("output", execution.output);
            }
            if (execution.error != null) {
                data.add("error", execution.error);
                if (execution.failedTask != null) {
                    data.add("task", execution.failedTask);
                }
            }
            if (execution.errorReason != null) {
                data.add("reason", execution.errorReason);
            }
            String type = execution.status == Execution.Status.SUCCEEDED ? WORKFLOW_SUCCEEDED : WORKFLOW_FAILED;
            JsonObject payload = data.add("executionId", execution.id).build();
            if (events.appendLast(execution.id, type, payload).isPresent()) {
                notifications.publishWorkflow(execution.id, type, payload);
            } else {
                LOG.warning("execution " + execution.id + " already had its last event: its " + type + " is not sent");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "execution " + execution.id + " ended " + execution.status.wireName()
                    + " but its last event could not be written", e);
        }
    }

    private void endConversation(final Execution execution) {
        try {
            if (execution.memoryKey.equals("execution:" + execution.id)) {
                memory.setExpiration(execution.memoryKey, executions.ttl()); // its own conversation ends with it
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the conversation of execution " + execution.id + " keeps no expiry", e);
        }
    }

    /** False when the execution had already ended (another writer's end stands). */
    private boolean saveFinalState(final Execution execution) {
        try {
            return executions.saveUnlessEnded(execution);
        } catch (RuntimeException first) {
            // Safe to repeat: a first attempt that ran makes the second find exactly this state.
            LOG.log(Level.WARNING, "writing the final state of execution " + execution.id + " failed; retrying once",
                    first);
            return executions.saveUnlessEnded(execution);
        }
    }

    /** A step's state write; stops the run when the lock is lost or the execution has ended meanwhile. */
    private void save(final Execution execution, final HeldLock lock) {
        stopIfLost(lock);
        if (!executions.saveUnlessEnded(execution)) {
            throw new EndedElsewhere();
        }
    }

    private static void stopIfLost(final HeldLock lock) {
        if (lock.isLost()) {
            throw new LockLost();
        }
    }

    private void workflowEvent(final Execution execution, final HeldLock lock, final String type,
            final JsonObjectBuilder data) {
        JsonObject payload = data.add("executionId", execution.id).build();
        stopIfLost(lock);
        events.appendIfOpen(execution.id, type, payload).orElseThrow(EndedElsewhere::new);
        notifications.publishWorkflow(execution.id, type, payload);
    }

    private void taskEvent(final Execution execution, final HeldLock lock, final Execution.TaskRun run,
            final String type, final JsonObjectBuilder data) {
        JsonObject payload = data.add("executionId", execution.id).add("taskId", run.taskId)
                .add("taskExecId", run.taskExecId).build();
        stopIfLost(lock);
        events.appendIfOpen(execution.id, type, payload).orElseThrow(EndedElsewhere::new);
        notifications.publishTask(run.taskExecId, execution.id, type, payload);
    }

    /** The lock manager found the run's lock gone: the run stops and ends the execution as interrupted. */
    private static final class LockLost extends RuntimeException {
        LockLost() {
            super("the execution lock was lost", null, false, false);
        }
    }

    /** A write was refused because the execution had ended (a sweep ended it): the run stops, writing nothing. */
    private static final class EndedElsewhere extends RuntimeException {
        EndedElsewhere() {
            super("the execution was ended by another writer", null, false, false);
        }
    }
}
