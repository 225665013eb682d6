package io.compozy.cache.web.workflow;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An execution's state as the runner keeps it while it runs; {@link #toJson()} is what
 * {@link ExecutionStore} writes and {@code GET /api/executions/{id}} returns. Only the one runner of an
 * execution changes it, so it needs no synchronisation beyond publishing through Redis.
 */
final class Execution {

    /** The life of an execution and of each of its tasks. */
    enum Status {
        QUEUED, RUNNING, SUCCEEDED, FAILED, PENDING, SKIPPED;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    final String id;
    final String project;
    final String workflow;
    final String definitionEtag;
    final JsonValue input;
    final String memoryKey;
    final JsonObject trigger;
    final Instant createdAt;
    final List<TaskRun> tasks = new ArrayList<>();
    Status status = Status.QUEUED;
    Instant startedAt;
    Instant finishedAt;
    JsonValue output;
    String failedTask;
    String error;
    /** Why it failed when the cause was not a task's (error.reason, as InterruptedExecutions writes it). */
    String errorReason;

    Execution(final String id, final String project, final String workflow, final String definitionEtag,
            final JsonValue input, final String memoryKey, final JsonObject trigger, final List<WorkflowDefinition.Task> defined) {
        this.id = Objects.requireNonNull(id, "id");
        this.project = project;
        this.workflow = workflow;
        this.definitionEtag = definitionEtag;
        this.input = input;
        this.memoryKey = memoryKey;
        this.trigger = trigger;
        this.createdAt = Instant.now();
        for (WorkflowDefinition.Task task : defined) {
            tasks.add(new TaskRun(task.id(), task.kind(), id + "." + task.id()));
        }
    }

    boolean finished() {
        return status == Status.SUCCEEDED || status == Status.FAILED;
    }

    JsonObject toJson() {
        JsonObjectBuilder json = Json.createObjectBuilder()
                .add("id", id)
                .add("project", project)
                .add("workflow", workflow)
                .add("definitionEtag", definitionEtag)
                .add("status", status.wireName())
                .add("trigger", trigger)
                .add("input", input)
                .add("memoryKey", memoryKey)
                .add("createdAt", createdAt.toString());
        times(json, startedAt, finishedAt);
        if (output != null) {
            json.add("output", output);
        }
        if (error != null) {
            JsonObjectBuilder failure = Json.createObjectBuilder().add("message", error);
            if (errorReason != null) {
                failure.add("reason", errorReason);
            }
            if (failedTask != null) {
                failure.add("task", failedTask);
            }
            json.add("error", failure);
        }
        JsonArrayBuilder taskArray = Json.createArrayBuilder();
        tasks.forEach(task -> taskArray.add(task.toJson()));
        return json.add("tasks", taskArray).build();
    }

    private static void times(final JsonObjectBuilder json, final Instant started, final Instant finished) {
        if (started != null) {
            json.add("startedAt", started.toString());
        }
        if (finished != null) {
            json.add("finishedAt", finished.toString());
            json.add("durationMs", Duration.between(started == null ? finished : started, finished).toMillis());
        }
    }

    /** One task of the execution. */
    static final class TaskRun {

        final String taskId;
        final WorkflowDefinition.Kind kind;
        /** {@code {execId}.{taskId}}: the task's config key and notification channel name. */
        final String taskExecId;
        Status status = Status.PENDING;
        Instant startedAt;
        Instant finishedAt;
        JsonValue output;
        long tokens = -1;
        String error;

        TaskRun(final String taskId, final WorkflowDefinition.Kind kind, final String taskExecId) {
            this.taskId = taskId;
            this.kind = kind;
            this.taskExecId = taskExecId;
        }

        JsonObject toJson() {
            JsonObjectBuilder json = Json.createObjectBuilder()
                    .add("id", taskId)
                    .add("kind", kind.wireName())
                    .add("taskExecId", taskExecId)
                    .add("status", status.wireName());
            times(json, startedAt, finishedAt);
            if (output != null) {
                json.add("output", output);
            }
            if (tokens >= 0) {
                json.add("tokens", tokens);
            }
            if (error != null) {
                json.add("error", error);
            }
            return json.build();
        }
    }
}
