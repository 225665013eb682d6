package io.compozy.cache.web.store.eventstream;

import io.compozy.cache.web.store.JsonText;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.time.Instant;

/**
 * One event of an execution: {@code {"id":n,"type":..,"data":..,"at":..}}.
 *
 * @param id the event's number within its execution, from 1
 * @param type what happened
 * @param data the event's JSON payload
 * @param at when it was appended
 */
public record ExecutionEvent(long id, String type, JsonValue data, Instant at) {

    public JsonObject toJson() {
        return Json.createObjectBuilder()
                .add("id", id)
                .add("type", type)
                .add("data", data)
                .add("at", at.toString())
                .build();
    }

    static ExecutionEvent parse(final String json, final String where) {
        JsonObject object = JsonText.parseStored(json, where).asJsonObject();
        return new ExecutionEvent(object.getJsonNumber("id").longValueExact(), object.getString("type"),
                object.get("data"), Instant.parse(object.getString("at")));
    }
}
