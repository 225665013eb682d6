package io.compozy.cache.web.store.eventstream;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.DeliveryQueue;
import io.compozy.cache.web.store.HashTag;
import io.compozy.cache.web.store.LuaScript;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.notification.NotificationSystem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RScript;
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

    private static final LuaScript APPEND = LuaScript.load(ExecutionEventStream.class, "append_event.lua");
    /** How every event's JSON starts: the script writes the id it takes after it. */
    private static final String ID_PREFIX = "{\"id\":0";

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

    /** {@code {stream:events:<id>}:seq}: one hash tag for sequence and log, which one script updates. */
    public static String sequenceKey(final String execId) {
        return HashTag.of(channel(execId)) + ":seq";
    }

    /** {@code {stream:events:<id>}:log}, in the sequence's hash slot. */
    public static String logKey(final String execId) {
        return HashTag.of(channel(execId)) + ":log";
    }

    public static String channel(final String execId) {
        return "stream:events:" + StoreException.requireText(execId, "execution id");
    }

    /** {@code {stream:events:<id>}:end}, in the same slot: the id of the stream's last event, once it had one. */
    public static String endKey(final String execId) {
        return HashTag.of(channel(execId)) + ":end";
    }

    /**
     * Numbers the event, appends it to the log, trims the log to {@value #LOG_LENGTH}, renews the 24 h
     * TTL of log and sequence and publishes it, all in one script: concurrent appends are logged and
     * published in id order, so a live reader never sees id N+1 before N. Appends after the stream's last
     * event too (events sent through the REST API).
     */
    @Metered("events_append")
    public ExecutionEvent append(final String execId, final String type, final JsonValue data) {
        return append(execId, type, data, "any").orElseThrow();
    }

    /**
     * As {@link #append}, but only while the stream has not had its last event ({@link #appendLast}): empty,
     * and nothing logged or published, once it has. What a runner sends, so nothing follows an execution's end.
     */
    @Metered(value = "events_append", absent = "ended")
    public Optional<ExecutionEvent> appendIfOpen(final String execId, final String type, final JsonValue data) {
        return append(execId, type, data, "open");
    }

    /**
     * Appends the stream's last event (an execution's end), in the same atomic step as the check: empty when
     * the stream already has one, so an execution ends once, whoever ends it.
     */
    @Metered(value = "events_append", absent = "ended")
    public Optional<ExecutionEvent> appendLast(final String execId, final String type, final JsonValue data) {
        return append(execId, type, data, "last");
    }

    private Optional<ExecutionEvent> append(final String execId, final String type, final JsonValue data,
            final String mode) {
        Instant at = Instant.now();
        String eventType = StoreException.requireText(type, "event type");
        JsonValue payloadData = data == null ? JsonValue.NULL : data;
        String json = new ExecutionEvent(0, eventType, payloadData, at).toJson().toString();
        if (!json.startsWith(ID_PREFIX)) {
            throw new IllegalStateException("an event's JSON must start with its id: " + json);
        }
        String afterId = json.substring(ID_PREFIX.length());
        long id = APPEND.<Long>eval(redis, RScript.ReturnType.INTEGER,
                List.of(sequenceKey(execId), logKey(execId), endKey(execId)), channel(execId), LOG_LENGTH,
                RETENTION.toMillis(), afterId, mode);
        return id == 0 ? Optional.empty() : Optional.of(new ExecutionEvent(id, eventType, payloadData, at));
    }

    /** The logged events with an id above {@code afterId}, in id order. */
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
        events.sort(Comparator.comparingLong(ExecutionEvent::id));
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
