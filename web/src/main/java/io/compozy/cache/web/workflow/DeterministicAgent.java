package io.compozy.cache.web.workflow;

import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * The stand-in for an LLM agent: its reply is its template with {@code {input}} replaced by the input
 * text, and a turn's tokens are the whitespace words of the input plus those of the reply.
 */
final class DeterministicAgent {

    static final String DEFAULT_REPLY = "Noted: {input}";

    private DeterministicAgent() {
    }

    /** One turn: what goes into the conversation, and its token count. */
    record Turn(String input, String reply, long tokens) {
    }

    static Turn answer(final String replyTemplate, final JsonValue input) {
        String text = input instanceof JsonString string ? string.getString() : input.toString();
        String reply = replyTemplate.replace("{input}", text);
        return new Turn(text, reply, Tools.words(text) + Tools.words(reply));
    }
}
