package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.Subscription;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CompletableFuture;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One open Server-Sent Events response tied to a store subscription: events go out as JSON, a comment
 * every {@value #KEEP_ALIVE_SECONDS} s finds clients that left, and the first failed send closes the
 * subscription and the response.
 *
 * <p>A comment goes out as soon as the stream is attached, so the client has the response headers at once
 * (not at the first event or keep-alive). When the application stops (a redeploy), {@link #closeAll()}
 * ends every open stream: its Redis listener is removed before the application is gone, and clients see
 * the end of the stream and reconnect (with {@code Last-Event-ID}) to the new deployment. {@link StreamLimits}
 * caps how many are open, in all and per client.
 */
final class SseChannel implements AutoCloseable {

    static final long KEEP_ALIVE_SECONDS = 15;

    /** The streams open in this deployment of the application. */
    private static final Set<SseChannel> OPEN = ConcurrentHashMap.newKeySet();

    private final SseEventSink sink;
    private final Sse sse;
    private final StreamLimits.Admission admission = StreamLimits.take();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Subscription subscription;
    private volatile ScheduledFuture<?> keepAlive;

    SseChannel(final SseEventSink sink, final Sse sse) {
        this.sink = sink;
        this.sse = sse;
    }

    /** Ties the store subscription to this response and starts the keep-alive. */
    void attach(final Subscription storeSubscription, final ScheduledExecutorService scheduler) {
        this.subscription = storeSubscription;
        synchronized (OPEN) {
            try {
                admission.admit(OPEN); // counted and joined at once: a burst cannot slip past the limits
            } catch (ApiProblem full) {
                storeSubscription.close();
                throw full; // nothing was sent yet: the answer is the 429
            }
            OPEN.add(this);
        }
        emit(sse.newEventBuilder().comment("open").build());
        keepAlive = scheduler.scheduleAtFixedRate(() -> emit(sse.newEventBuilder().comment("keep-alive").build()),
                KEEP_ALIVE_SECONDS, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
        if (closed.get()) {
            close();
        }
    }

    /** Sends one event; {@code id} may be null. */
    void send(final String name, final String id, final String json) {
        emit(event(name, id, json));
    }

    /** Sends a stream's last event and ends the response once it is written (a stream with an end, like an execution's). */
    void sendLast(final String name, final String id, final String json) {
        emit(event(name, id, json)).whenComplete((ignored, failure) -> close());
    }

    private OutboundSseEvent event(final String name, final String id, final String json) {
        OutboundSseEvent.Builder event = sse.newEventBuilder().name(name).mediaType(MediaType.APPLICATION_JSON_TYPE).data(json);
        if (id != null) {
            event.id(id);
        }
        return event.build();
    }

    private CompletionStage<?> emit(final OutboundSseEvent event) {
        if (closed.get() || sink.isClosed()) {
            close();
            return CompletableFuture.completedFuture(null);
        }
        return sink.send(event).whenComplete((ignored, failure) -> {
            if (failure != null) {
                close(); // the client went away
            }
        });
    }

    /** Who opened this stream (the user, else the address), for {@link StreamLimits}. */
    String client() {
        return admission.client();
    }

    static int openCount() {
        return OPEN.size();
    }

    /** Ends every open stream of this deployment (the application is stopping). */
    static void closeAll() {
        OPEN.forEach(SseChannel::close);
    }

    @Override
    public void close() {
        boolean first = closed.compareAndSet(false, true);
        synchronized (OPEN) {
            OPEN.remove(this);
        }
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
        Subscription s = subscription;
        if (s != null) {
            s.close();
        }
        if (first) {
            try {
                sink.close();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }
}
