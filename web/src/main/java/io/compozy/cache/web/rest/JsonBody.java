package io.compozy.cache.web.rest;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.stream.JsonParser;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/** Request bodies: parsed here so that every malformed or mistyped body is a 400 that says what to send. */
public final class JsonBody {

    private JsonBody() {
    }

    /** Any JSON value. */
    public static JsonValue parse(final InputStream body) {
        if (body == null) {
            throw ApiProblem.badRequest("A JSON body is required");
        }
        // Strict UTF-8: a malformed byte is a 400, never a U+FFFD stored in its place.
        var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (JsonParser parser = Json.createParser(new InputStreamReader(body, utf8))) {
            if (!parser.hasNext()) {
                throw ApiProblem.badRequest("The body is empty; send a JSON document");
            }
            parser.next();
            JsonValue value = parser.getValue();
            if (parser.hasNext()) { // throws on trailing garbage; true on a second value
                throw ApiProblem.badRequest("The body holds more than one JSON document; send exactly one");
            }
            return value;
        } catch (JsonParsingException e) {
            if (e.getCause() != null) {
                throw rethrowLimit(e);
            }
            var at = e.getLocation();
            throw ApiProblem.badRequest("The body is not valid JSON (line " + at.getLineNumber() + ", column "
                    + at.getColumnNumber() + "); send a JSON document");
        } catch (JsonException e) {
            throw rethrowLimit(e);
        }
    }

    /** A JSON object. */
    public static JsonObject object(final InputStream body) {
        JsonValue value = parse(body);
        if (!(value instanceof JsonObject object)) {
            throw ApiProblem.badRequest("The body must be a JSON object, got " + describe(value));
        }
        return object;
    }

    /** A required array field. */
    public static List<JsonValue> array(final JsonObject body, final String field) {
        JsonValue value = body.get(field);
        if (!(value instanceof JsonArray array)) {
            throw ApiProblem.badRequest("Field '" + field + "' is required and must be an array, got " + describe(value));
        }
        return array;
    }

    /** An optional integer field (a JSON number without fraction), or the default. */
    public static long integer(final JsonObject body, final String field, final long defaultValue) {
        return optionalInteger(body, field).orElse(defaultValue);
    }

    /** A required integer field. */
    public static long requiredInteger(final JsonObject body, final String field) {
        return optionalInteger(body, field)
                .orElseThrow(() -> ApiProblem.badRequest("Field '" + field + "' is required and must be an integer"));
    }

    /** An optional string field. */
    public static Optional<String> text(final JsonObject body, final String field) {
        JsonValue value = body.get(field);
        if (value == null || value == JsonValue.NULL) {
            return Optional.empty();
        }
        if (!(value instanceof JsonString text)) {
            throw ApiProblem.badRequest("Field '" + field + "' must be a string, got " + describe(value));
        }
        return Optional.of(text.getString());
    }

    /** A value that must fit an int (sizes, counts). */
    public static int toInt(final long value, final String field) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw ApiProblem.badRequest("Field '" + field + "' is out of range: " + value);
        }
        return (int) value;
    }

    /** A query parameter that must be an integer >= 0 when present. */
    public static int queryInt(final String raw, final String name, final int defaultValue) {
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(raw.strip());
            if (value < 0) {
                throw ApiProblem.badRequest("Query parameter '" + name + "' must be 0 or more, got " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("Query parameter '" + name + "' must be an integer, got '" + raw + "'");
        }
    }

    private static Optional<Long> optionalInteger(final JsonObject body, final String field) {
        JsonValue value = body.get(field);
        if (value == null || value == JsonValue.NULL) {
            return Optional.empty();
        }
        if (value instanceof JsonNumber number && number.isIntegral()) {
            try {
                return Optional.of(number.longValueExact());
            } catch (ArithmeticException e) {
                throw ApiProblem.badRequest("Field '" + field + "' is out of range");
            }
        }
        throw ApiProblem.badRequest("Field '" + field + "' must be an integer, got " + describe(value));
    }

    private static String describe(final JsonValue value) {
        return value == null ? "nothing" : value.getValueType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The size limit fails inside the parser's read; hand its own problem on instead of a parse error. */
    private static RuntimeException rethrowLimit(final JsonException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ApiProblem problem) {
                return problem;
            }
            if (cause instanceof CharacterCodingException) {
                return ApiProblem.badRequest("The body is not valid UTF-8; send JSON encoded as UTF-8");
            }
        }
        return ApiProblem.badRequest("The body could not be read as JSON; send a JSON document");
    }
}
