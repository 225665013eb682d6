package io.compozy.cache.web.store.resource;

import io.compozy.cache.web.store.JsonText;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.time.Instant;

/**
 * A change of a resource, as published on {@code {prefix}:events:{project}:{type}}:
 * {@code {"type":"put"|"delete","key":{"project","type","id","version"?},"etag","at"}}.
 *
 * @param type {@code put} or {@code delete}
 * @param key the resource
 * @param etag the ETag written (put) or the one of the value removed (delete)
 * @param at when it happened
 */
public record ResourceEvent(String type, ResourceKey key, String etag, Instant at) {

    public static final String PUT = "put";
    public static final String DELETE = "delete";

    public JsonObject toJson() {
        JsonObjectBuilder keyJson = Json.createObjectBuilder()
                .add("project", key.project())
                .add("type", key.type())
                .add("id", key.id());
        key.versionIfAny().ifPresent(v -> keyJson.add("version", v));
        return Json.createObjectBuilder()
                .add("type", type)
                .add("key", keyJson)
                .add("etag", etag)
                .add("at", at.toString())
                .build();
    }

    static ResourceEvent parse(final String text, final String channel) {
        JsonObject json = JsonText.parseStored(text, channel).asJsonObject();
        JsonObject key = json.getJsonObject("key");
        return new ResourceEvent(json.getString("type"),
                new ResourceKey(key.getString("project"), key.getString("type"), key.getString("id"),
                        key.getString("version", null)),
                json.getString("etag"),
                Instant.parse(json.getString("at")));
    }
}
