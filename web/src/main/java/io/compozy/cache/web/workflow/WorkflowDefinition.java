package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.StoreException;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A workflow as its JSON says it: {@code {"description"?, "tasks":[task, ...]}}, tasks run in order.
 *
 * <pre>
 * {"id":"greet","kind":"agent","reply":"Hello! You said: {input}"}   reply optional, {input} is replaced
 * {"id":"shout","kind":"tool","tool":"uppercase"}
 * {"id":"pick","kind":"tool","tool":"json_pick","with":{"field":"user.name"}}
 * </pre>
 *
 * @param id the workflow's id in its project
 * @param tasks at least one, ids unique
 */
public record WorkflowDefinition(String id, String description, List<Task> tasks) {

    static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** The task kinds this runner knows. */
    public enum Kind {
        AGENT, TOOL;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One task.
     *
     * @param config the task's JSON exactly as defined (what the task config store receives)
     * @param tool the tool's name for {@code tool} tasks, else null
     * @param with the tool's options ({@code {}} when none)
     * @param reply the agent's reply template for {@code agent} tasks, else null
     */
    public record Task(String id, Kind kind, String tool, JsonObject with, String reply, JsonObject config) {
    }

    /**
     * Reads and checks a definition.
     *
     * @throws StoreException {@code INVALID_ARGUMENT} naming the workflow, the task and what to fix
     */
    public static WorkflowDefinition parse(final String id, final JsonValue json) {
        String where = "workflow '" + id + "'";
        if (!(json instanceof JsonObject object)) {
            throw invalid(where + " must be a JSON object with a 'tasks' array");
        }
        if (!(object.get("tasks") instanceof JsonArray array) || array.isEmpty()) {
            throw invalid(where + " needs a non-empty 'tasks' array");
        }
        String description = object.get("description") instanceof JsonString text ? text.getString() : "";
        List<Task> tasks = new ArrayList<>(array.size());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            Task task = parseTask(where + ", task " + (i + 1), array.get(i));
            if (!ids.add(task.id())) {
                throw invalid(where + ": task id '" + task.id() + "' is used twice; task ids must be unique");
            }
            tasks.add(task);
        }
        return new WorkflowDefinition(id, description, List.copyOf(tasks));
    }

    private static Task parseTask(final String where, final JsonValue json) {
        if (!(json instanceof JsonObject task)) {
            throw invalid(where + " must be a JSON object");
        }
        String id = text(task, "id", where);
        if (!TASK_ID.matcher(id).matches()) {
            throw invalid(where + ": id '" + id + "' may use only letters, digits, '_' and '-' (at most 64)");
        }
        String at = where + " ('" + id + "')";
        String kind = text(task, "kind", at);
        switch (kind) {
            case "agent" -> {
                String reply = task.containsKey("reply") ? text(task, "reply", at) : DeterministicAgent.DEFAULT_REPLY;
                return new Task(id, Kind.AGENT, null, JsonValue.EMPTY_JSON_OBJECT, reply, task);
            }
            case "tool" -> {
                String tool = text(task, "tool", at);
                JsonValue with = task.getOrDefault("with", JsonValue.EMPTY_JSON_OBJECT);
                if (!(with instanceof JsonObject options)) {
                    throw invalid(at + ": 'with' must be a JSON object of the tool's options");
                }
                Tools.validate(tool, options, at);
                return new Task(id, Kind.TOOL, tool, options, null, task);
            }
            default -> throw invalid(at + ": kind '" + kind + "' is unknown; use 'agent' or 'tool'");
        }
    }

    private static String text(final JsonObject object, final String field, final String where) {
        if (!(object.get(field) instanceof JsonString text) || text.getString().isBlank()) {
            throw invalid(where + ": '" + field + "' is required and must be a non-empty string");
        }
        return text.getString();
    }

    private static StoreException invalid(final String message) {
        return StoreException.invalid(message);
    }
}
