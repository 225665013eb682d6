package io.compozy.cache.web.store.notification;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.DeliveryQueue;
import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.redisson.api.RBatch;
import org.redisson.api.BatchOptions;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * Workflow and task notifications over Redis pub/sub (see docs/stores.md, "Notification system").
 * Subscriptions are Redisson's, so they are re-established when the client reconnects.
 */
@ApplicationScoped
public class NotificationSystem {

    private static final Logger LOG = Logger.getLogger(NotificationSystem.class.getName());

    /** Config key of how many undelivered messages a subscriber may queue before drops; default 1000. */
    public static final String QUEUE_CAPACITY_KEY = "stores.notifications.subscriber_queue";
    public static final String DEFAULT_QUEUE_CAPACITY = "1000";

    public static final String ALL_WORKFLOWS = "workflow:*";
    public static final String ALL_TASKS = "task:*";

    private final RedissonClient redis;
    private final Executor delivery;
    private final int queueCapacity;

    /** For CDI's proxy only. */
    protected NotificationSystem() {
        this.redis = null;
        this.delivery = null;
        this.queueCapacity = 0;
    }

    @Inject
    public NotificationSystem(final RedissonClient redis, final StoreExecutors executors,
            @ConfigProperty(name = QUEUE_CAPACITY_KEY, defaultValue = DEFAULT_QUEUE_CAPACITY) final int queueCapacity) {
        this(redis, executors.delivery(), queueCapacity);
    }

    /** @param delivery runs subscriber callbacks; its owner shuts it down */
    public NotificationSystem(final RedissonClient redis, final Executor delivery, final int queueCapacity) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.delivery = Objects.requireNonNull(delivery, "delivery");
        if (queueCapacity < 1) {
            throw new IllegalArgumentException(QUEUE_CAPACITY_KEY + " must be at least 1, got " + queueCapacity);
        }
        this.queueCapacity = queueCapacity;
    }

    public static String workflowChannel(final String workflowId) {
        return "workflow:" + StoreException.requireText(workflowId, "workflow id");
    }

    public static String taskChannel(final String taskId) {
        return "task:" + StoreException.requireText(taskId, "task id");
    }

    /** Publishes on {@code workflow:{id}}; returns how many subscribers Redis reached. */
    @Metered("notification_publish")
    public long publishWorkflow(final String workflowId, final String type, final JsonValue data) {
        String message = message(type, data).add("workflowId", workflowId).build().toString();
        return redis.getTopic(workflowChannel(workflowId), StringCodec.INSTANCE).publish(message);
    }

    /** Publishes on {@code task:{id}} and, when {@code workflowId} is given, on {@code workflow:{workflowId}}. */
    @Metered("notification_publish")
    public void publishTask(final String taskId, final String workflowId, final String type, final JsonValue data) {
        JsonObjectBuilder builder = message(type, data).add("taskId", taskId);
        boolean namesWorkflow = workflowId != null && !workflowId.isBlank();
        if (namesWorkflow) {
            builder.add("workflowId", workflowId);
        }
        String message = builder.build().toString();
        RBatch batch = redis.createBatch(BatchOptions.defaults());
        batch.getTopic(taskChannel(taskId), StringCodec.INSTANCE).publishAsync(message);
        if (namesWorkflow) {
            batch.getTopic(workflowChannel(workflowId), StringCodec.INSTANCE).publishAsync(message);
        }
        batch.execute();
    }

    /** Subscribes to one channel; the subscription is active when this returns. */
    @Metered("notification_subscribe")
    public DeliveryQueue<Notification> subscribe(final String channel, final Consumer<Notification> subscriber) {
        DeliveryQueue<Notification> queue = new DeliveryQueue<>(queueCapacity, delivery, subscriber);
        RTopic topic = redis.getTopic(StoreException.requireText(channel, "channel"), StringCodec.INSTANCE);
        int listenerId = topic.addListener(String.class, (ch, json) -> offer(queue, ch.toString(), json));
        queue.onClose(() -> topic.removeListener(listenerId));
        return queue;
    }

    /** Subscribes to a pattern such as {@link #ALL_WORKFLOWS}; the subscription is active when this returns. */
    @Metered("notification_subscribe")
    public DeliveryQueue<Notification> subscribePattern(final String pattern, final Consumer<Notification> subscriber) {
        DeliveryQueue<Notification> queue = new DeliveryQueue<>(queueCapacity, delivery, subscriber);
        RPatternTopic topic = redis.getPatternTopic(StoreException.requireText(pattern, "pattern"), StringCodec.INSTANCE);
        int listenerId = topic.addListener(String.class, (p, ch, json) -> offer(queue, ch.toString(), json));
        queue.onClose(() -> topic.removeListener(listenerId));
        return queue;
    }

    private static void offer(final DeliveryQueue<Notification> queue, final String channel, final String json) {
        try {
            queue.offer(Notification.parse(channel, json));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "ignoring a message on " + channel + " that is not a JSON object", e);
        }
    }

    private static JsonObjectBuilder message(final String type, final JsonValue data) {
        return Json.createObjectBuilder()
                .add("type", StoreException.requireText(type, "event type"))
                .add("data", data == null ? JsonValue.NULL : data)
                .add("timestamp", Instant.now().toString());
    }
}
