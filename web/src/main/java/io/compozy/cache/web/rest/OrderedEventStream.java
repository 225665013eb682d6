package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import java.util.Set;

/**
 * Sends each execution event to one SSE client once, in id order, whether it came from the replay or
 * the live subscription; an event whose type is in {@code lastTypes} ends the response. Callers subscribe
 * first and replay while holding this object's lock, so live events wait and none is lost or repeated.
 */
final class OrderedEventStream {

    private final SseChannel channel;
    private final Set<String> lastTypes;
    private long lastSent;
    private boolean ended;

    OrderedEventStream(final SseChannel channel, final long after, final Set<String> lastTypes) {
        this.channel = channel;
        this.lastSent = after;
        this.lastTypes = lastTypes;
    }

    synchronized void sendIfNew(final ExecutionEvent event) {
        if (ended || event.id() <= lastSent) {
            return;
        }
        String id = Long.toString(event.id());
        String json = event.toJson().toString();
        lastSent = event.id();
        if (lastTypes.contains(event.type())) {
            ended = true;
            channel.sendLast(event.type(), id, json);
        } else {
            channel.send(event.type(), id, json);
        }
    }

    synchronized boolean ended() {
        return ended;
    }
}
