package io.compozy.cache.web.store.eventstream;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.DeliveryQueue;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.notification.NotificationSystem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/** Per-execution numbered events with replay (see docs/stores.md, "Execution event stream"). */
@ApplicationScoped
public class ExecutionEventStream {

    private static final Logger LOG = Logger.getLogger(ExecutionEventStream.class.getName());

    /** How many events each execution's log keeps (LTRIM 0 499). */
    public static final int LOG_LENGTH = 500;
    /** How long the log and the sequence live after the last event. */
    public static final Duration RETENTION = Duration.ofHours(24);

    private final RedissonClient redis;
    private final Executor delivery;
    private final int queueCapacity;

    /** For CDI's proxy only. */
    protected ExecutionEventStream() {
        this.redis = null;
        this.delivery = null;
        this.queueCapacity = 0;
    }

    @Inject
    public ExecutionEventStream(final RedissonClient redis, final StoreExecutors executors,
            @ConfigProperty(name = NotificationSystem.QUEUE_CAPACITY_KEY,
                    defaultValue = NotificationSystem.DEFAULT_QUEUE_CAPACITY) final int queueCapacity) {
        this(redis, executors.delivery(), queueCapacity);
    }

    /** @param delivery runs subscriber callbacks; its owner shuts it down */
    public ExecutionEventStream(final RedissonClient redis, final Executor delivery, final int queueCapacity) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.delivery = Objects.requireNonNull(delivery, "delivery");
        this.queueCapacity = queueCapacity;
    }

    public static String sequenceKey(final String execId) {
        return "stream:events:seq:" + StoreException.requireText(execId, "execution id");
    }

    public static String logKey(final String execId) {
        return "stream:events:log:" + StoreException.requireText(execId, "execution id");
    }

    public static String channel(final String execId) {
        return "stream:events:" + StoreException.requireText(execId, "execution id");
    }

    /**
     * Numbers the event (INCR), then in one MULTI: LPUSH it to the log, LTRIM the log to 500, EXPIRE log
     * and sequence for 24 h, and PUBLISH it.
     */
    @Metered("events_append")
    public ExecutionEvent append(final String execId, final String type, final JsonValue data) {
        long id = redis.getAtomicLong(sequenceKey(execId)).incrementAndGet();
        ExecutionEvent event = new ExecutionEvent(id, StoreException.requireText(type, "event type"),
                data == null ? JsonValue.NULL : data, Instant.now());
        String payload = event.toJson().toString();
        RBatch batch = redis.createBatch(BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY_ATOMIC));
        batch.getDeque(logKey(execId), StringCodec.INSTANCE).addFirstAsync(payload);
        batch.getList(logKey(execId), StringCodec.INSTANCE).trimAsync(0, LOG_LENGTH - 1);
        batch.getList(logKey(execId), StringCodec.INSTANCE).expireAsync(RETENTION);
        batch.getAtomicLong(sequenceKey(execId)).expireAsync(RETENTION);
        batch.getTopic(channel(execId), StringCodec.INSTANCE).publishAsync(payload);
        batch.execute();
        return event;
    }

    /** The logged events with an id above {@code afterId}, oldest first. */
    @Metered("events_replay")
    public List<ExecutionEvent> replayAfter(final String execId, final long afterId) {
        String logKey = logKey(execId);
        List<String> newestFirst = redis.<String>getList(logKey, StringCodec.INSTANCE).readAll();
        List<ExecutionEvent> events = new ArrayList<>(newestFirst.size());
        for (String json : newestFirst) {
            ExecutionEvent event = ExecutionEvent.parse(json, logKey);
            if (event.id() > afterId) {
                events.add(event);
            }
        }
        Collections.reverse(events);
        return events;
    }

    /** Follows new events of an execution; the subscription is active when this returns. */
    @Metered("events_subscribe")
    public DeliveryQueue<ExecutionEvent> subscribe(final String execId, final Consumer<ExecutionEvent> subscriber) {
        DeliveryQueue<ExecutionEvent> queue = new DeliveryQueue<>(queueCapacity, delivery, subscriber);
        RTopic topic = redis.getTopic(channel(execId), StringCodec.INSTANCE);
        int listenerId = topic.addListener(String.class, (ch, json) -> {
            try {
                queue.offer(ExecutionEvent.parse(json, ch.toString()));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "ignoring an unreadable event on " + ch, e);
            }
        });
        queue.onClose(() -> topic.removeListener(listenerId));
        return queue;
    }
}
