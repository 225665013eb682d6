package io.compozy.cache.web.store.memory;

import jakarta.json.JsonValue;
import java.util.List;

/**
 * A slice of a conversation.
 *
 * @param messages the messages of the slice, oldest first
 * @param total how many messages the whole conversation holds
 */
public record MessagePage(List<JsonValue> messages, long total) {

    public MessagePage {
        messages = List.copyOf(messages);
    }
}
