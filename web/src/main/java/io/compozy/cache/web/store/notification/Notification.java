package io.compozy.cache.web.store.notification;

import io.compozy.cache.web.store.JsonText;
import jakarta.json.JsonObject;

/**
 * A message as received.
 *
 * @param channel the channel it was published on ({@code workflow:{id}} or {@code task:{id}})
 * @param message the JSON message: {@code type}, {@code data}, {@code timestamp}, and {@code workflowId}
 *     or {@code taskId}
 * @param json the message exactly as received
 */
public record Notification(String channel, JsonObject message, String json) {

    static Notification parse(final String channel, final String json) {
        return new Notification(channel, JsonText.parseStored(json, channel).asJsonObject(), json);
    }

    public String type() {
        return message.getString("type", "message");
    }
}
