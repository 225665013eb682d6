package io.compozy.cache.web.rest;

import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/** An SSE sink that records what a client would have received (keep-alive comments left out). */
public final class RecordingSseSink implements SseEventSink {

    public final List<OutboundSseEvent> events = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public CompletionStage<?> send(final OutboundSseEvent event) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("client gone"));
        }
        if (event.getComment() == null || event.getName() != null) {
            events.add(event);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        closed = true;
    }
}
