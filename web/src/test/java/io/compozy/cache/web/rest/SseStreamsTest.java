package io.compozy.cache.web.rest;

import io.compozy.cache.web.admin.Administration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.Backends;
import io.compozy.cache.web.store.TestBackend;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.notification.NotificationSystem;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.json.Json;
import jakarta.ws.rs.sse.OutboundSseEvent;
import java.util.Optional;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.resteasy.plugins.providers.sse.SseImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

/** The SSE endpoints, called with a sink that records what a client would receive. */
@Backends.OnEmbedded
class SseStreamsTest {

    private RedissonClient redis;
    private String ns;
    private ScheduledExecutorService scheduler;
    private ExecutorService delivery;
    private final RecordingSseSink sink = new RecordingSseSink();

    @BeforeEach
    void start(final TestBackend backend) {
        redis = backend.client();
        ns = "sse-" + UUID.randomUUID().toString().substring(0, 12);
        scheduler = Executors.newScheduledThreadPool(1);
        delivery = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() {
        sink.close();
        scheduler.shutdownNow();
        delivery.shutdownNow();
        TestBackend.deleteKeysContaining(redis, ns);
    }

    @Test
    void aWorkflowStreamReplaysAfterLastEventIdThenFollowsWithoutGapsOrRepeats() {
        ExecutionEventStream executions = new ExecutionEventStream(redis, delivery, 100);
        EventsResource events = new EventsResource(executions, new NotificationSystem(redis, delivery, 100), scheduler, new Administration(Optional.of("configured"), () -> "BASIC"));
        String workflow = ns + "-wf";
        for (int i = 1; i <= 3; i++) {
            executions.append(workflow, "step", Json.createValue(i));
        }

        events.followWorkflow(workflow, "1", sink, new SseImpl());
        executions.append(workflow, "step", Json.createValue(4));

        await().atMost(Duration.ofSeconds(5)).until(() -> sink.events.size() == 3);
        assertThat(sink.events).extracting(OutboundSseEvent::getId).containsExactly("2", "3", "4");
        assertThat(sink.events).extracting(OutboundSseEvent::getName).containsOnly("step");
        assertThat(sink.events.get(0).getData().toString()).contains("\"id\":2");
    }

    @Test
    void aResourceStreamStartsWithAPutForEveryExistingResource() {
        ResourceStore resources = new ResourceStore(redis, scheduler, ns, Duration.ofSeconds(30));
        String etag = resources.put(ResourceKey.of("p", "t", "old"), Json.createObjectBuilder().build()).etag();

        new ResourcesResource(resources, scheduler).events("p", "t", sink, new SseImpl());
        resources.delete(ResourceKey.of("p", "t", "old"));

        await().atMost(Duration.ofSeconds(5)).until(() -> sink.events.size() == 2);
        assertThat(sink.events).extracting(OutboundSseEvent::getName).containsExactly("put", "delete");
        assertThat(sink.events.get(0).getData().toString()).contains(etag).contains("\"id\":\"old\"");
    }

    @Test
    void aClosedClientEndsTheSubscription() {
        String task = ns + "-task";
        NotificationSystem notifications = followTask(task);
        notifications.publishTask(task, null, "first", Json.createValue(1));
        await().atMost(Duration.ofSeconds(5)).until(() -> sink.events.size() == 1);

        sink.close();
        notifications.publishTask(task, null, "second", Json.createValue(2));

        await().atMost(Duration.ofSeconds(5)).until(() -> redis.getTopic("task:" + task).countSubscribers() == 0);
        assertThat(sink.events).hasSize(1);
    }

    @Test
    void stoppingTheApplicationEndsEveryOpenStreamAndItsSubscription() {
        String task = ns + "-stopping";
        followTask(task);
        assertThat(redis.getTopic("task:" + task).countSubscribers()).isEqualTo(1);

        EventsResource.closeOpenStreams(new Object());

        assertThat(sink.isClosed()).as("the client sees the end of the stream and reconnects").isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> redis.getTopic("task:" + task).countSubscribers() == 0);
    }

    /** Opens a task's stream into {@link #sink}; returns the notification system it listens to. */
    private NotificationSystem followTask(final String task) {
        NotificationSystem notifications = new NotificationSystem(redis, delivery, 100);
        new EventsResource(new ExecutionEventStream(redis, delivery, 100), notifications, scheduler,
                new Administration(Optional.of("configured"), () -> "BASIC")).followTask(task, sink, new SseImpl());
        return notifications;
    }
}
