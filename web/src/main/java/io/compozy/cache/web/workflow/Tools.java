package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.StoreException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.Locale;
import java.util.Set;

/**
 * The built-in tools, all deterministic.
 *
 * <ul>
 *   <li>{@code uppercase}: a string to upper case.</li>
 *   <li>{@code word_count}: a string to {@code {"text":s,"words":n}} (words are separated by whitespace).</li>
 *   <li>{@code json_pick}: the value at {@code with.field} (a dotted path such as {@code user.name}) of
 *       an object input; a missing field fails the task.</li>
 * </ul>
 */
public final class Tools {

    public static final Set<String> NAMES = Set.of("uppercase", "word_count", "json_pick");

    private Tools() {
    }

    /** Checks a tool's name and options when a definition is read, so a bad one fails before it runs. */
    static void validate(final String tool, final JsonObject with, final String where) {
        if (!NAMES.contains(tool)) {
            throw StoreException.invalid(where + ": tool '" + tool + "' is unknown; built-in tools are "
                    + String.join(", ", NAMES.stream().sorted().toList()));
        }
        if (tool.equals("json_pick") && !(with.get("field") instanceof JsonString field && !field.getString().isBlank())) {
            throw StoreException.invalid(where + ": tool 'json_pick' needs \"with\":{\"field\":\"a.b\"}, the dotted"
                    + " path of the field to pick");
        }
    }

    /** Runs a tool on its input. */
    static JsonValue run(final String tool, final JsonObject with, final JsonValue input) {
        return switch (tool) {
            case "uppercase" -> Json.createValue(text(tool, input).toUpperCase(Locale.ROOT));
            case "word_count" -> {
                String text = text(tool, input);
                yield Json.createObjectBuilder().add("text", text).add("words", words(text)).build();
            }
            case "json_pick" -> pick(with.getString("field"), input);
            default -> throw new TaskFailure("tool '" + tool + "' is unknown");
        };
    }

    /** Whitespace-separated words: the token count of the deterministic agent, and word_count's answer. */
    public static int words(final String text) {
        String stripped = text.strip();
        return stripped.isEmpty() ? 0 : stripped.split("\\s+").length;
    }

    private static String text(final String tool, final JsonValue input) {
        if (input instanceof JsonString text) {
            return text.getString();
        }
        throw new TaskFailure("tool '" + tool + "' needs a string input, got " + describe(input)
                + "; put a json_pick task before it to choose a string field");
    }

    private static JsonValue pick(final String path, final JsonValue input) {
        JsonValue current = input;
        String walked = "";
        for (String part : path.split("\\.")) {
            walked = walked.isEmpty() ? part : walked + "." + part;
            if (!(current instanceof JsonObject object) || !object.containsKey(part)) {
                throw new TaskFailure("json_pick: the input has no field '" + walked + "'"
                        + (current instanceof JsonObject object ? " (it has: " + String.join(", ", object.keySet()) + ")"
                                : " (the value there is " + describe(current) + ", not an object)"));
            }
            current = object.get(part);
        }
        return current;
    }

    static String describe(final JsonValue value) {
        return value == null ? "nothing" : value.getValueType().name().toLowerCase(Locale.ROOT);
    }
}
