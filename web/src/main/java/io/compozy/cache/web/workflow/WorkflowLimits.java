package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.nio.charset.StandardCharsets;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * How big a workflow may grow: tasks per definition, bytes per task output and per execution (all its
 * outputs together). A task whose output is over a limit fails the execution naming the key, before
 * anything of that output is stored, so a workflow that doubles its data at every task stops there and the
 * server keeps serving.
 */
@ApplicationScoped
public class WorkflowLimits {

    public static final String MAX_TASKS_KEY = "workflows.max_tasks";
    public static final String DEFAULT_MAX_TASKS = "64";
    public static final String MAX_TASK_OUTPUT_BYTES_KEY = "workflows.max_task_output_bytes";
    public static final String DEFAULT_MAX_TASK_OUTPUT_BYTES = "1048576";
    public static final String MAX_EXECUTION_OUTPUT_BYTES_KEY = "workflows.max_execution_output_bytes";
    public static final String DEFAULT_MAX_EXECUTION_OUTPUT_BYTES = "8388608";

    private final int maxTasks;
    private final long maxTaskOutputBytes;
    private final long maxExecutionOutputBytes;

    /** The defaults (also CDI's proxy). */
    public WorkflowLimits() {
        this(Integer.parseInt(DEFAULT_MAX_TASKS), Long.parseLong(DEFAULT_MAX_TASK_OUTPUT_BYTES),
                Long.parseLong(DEFAULT_MAX_EXECUTION_OUTPUT_BYTES));
    }

    @Inject
    public WorkflowLimits(@ConfigProperty(name = MAX_TASKS_KEY, defaultValue = DEFAULT_MAX_TASKS) final int maxTasks,
            @ConfigProperty(name = MAX_TASK_OUTPUT_BYTES_KEY, defaultValue = DEFAULT_MAX_TASK_OUTPUT_BYTES)
            final long maxTaskOutputBytes,
            @ConfigProperty(name = MAX_EXECUTION_OUTPUT_BYTES_KEY, defaultValue = DEFAULT_MAX_EXECUTION_OUTPUT_BYTES)
            final long maxExecutionOutputBytes) {
        if (maxTasks < 1 || maxTaskOutputBytes < 1 || maxExecutionOutputBytes < 1) {
            throw new IllegalArgumentException(MAX_TASKS_KEY + ", " + MAX_TASK_OUTPUT_BYTES_KEY + " and "
                    + MAX_EXECUTION_OUTPUT_BYTES_KEY + " must each be at least 1");
        }
        this.maxTasks = maxTasks;
        this.maxTaskOutputBytes = maxTaskOutputBytes;
        this.maxExecutionOutputBytes = maxExecutionOutputBytes;
    }

    /** @throws StoreException {@code INVALID_ARGUMENT} naming {@value #MAX_TASKS_KEY} when it has more tasks */
    void checkTasks(final WorkflowDefinition definition) {
        if (definition.tasks().size() > maxTasks) {
            throw StoreException.invalid("workflow '" + definition.id() + "' has " + definition.tasks().size()
                    + " tasks; at most " + maxTasks + " are allowed (" + MAX_TASKS_KEY + ")");
        }
    }

    /**
     * The size of a task's output, checked against both limits given what the execution produced before.
     *
     * @return the bytes it adds to the execution
     * @throws TaskFailure naming the limit it passes
     */
    long checkOutput(final String taskId, final JsonValue output, final long executionBytesBefore) {
        long bytes = (output instanceof JsonString text ? text.getString() : output.toString())
                .getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxTaskOutputBytes) {
            throw new TaskFailure("its output is " + bytes + " bytes; at most " + maxTaskOutputBytes
                    + " are kept per task (" + MAX_TASK_OUTPUT_BYTES_KEY + ")");
        }
        if (executionBytesBefore + bytes > maxExecutionOutputBytes) {
            throw new TaskFailure("the execution's outputs would reach " + (executionBytesBefore + bytes)
                    + " bytes; at most " + maxExecutionOutputBytes + " are kept per execution ("
                    + MAX_EXECUTION_OUTPUT_BYTES_KEY + ")");
        }
        return bytes;
    }
}
