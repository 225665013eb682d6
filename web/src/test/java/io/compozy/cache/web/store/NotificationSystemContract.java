package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.notification.Notification;
import io.compozy.cache.web.store.notification.NotificationSystem;
import jakarta.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.Redisson;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.RedisStrictCommand;
import org.redisson.command.CommandAsyncExecutor;

/** docs/stores.md, "Notification system". */
public abstract class NotificationSystemContract extends StoreContract {

    private NotificationSystem notifications;
    private String workflowId;

    @BeforeEach
    void createStore() {
        notifications = new NotificationSystem(redis, delivery, 1000);
        workflowId = "wf-" + ns;
    }

    @Test
    void fivePublishersTimesTenMessagesReachEachOfThreeSubscribersInPublisherOrder() throws Exception {
        List<List<Notification>> inboxes = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>(),
                new CopyOnWriteArrayList<>());
        List<Subscription> subscriptions = new ArrayList<>();
        for (List<Notification> inbox : inboxes) {
            subscriptions.add(notifications.subscribe(NotificationSystem.workflowChannel(workflowId), inbox::add));
        }
        ExecutorService publishers = Executors.newFixedThreadPool(5);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < 5; p++) {
                int publisher = p;
                done.add(publishers.submit(() -> {
                    for (int seq = 0; seq < 10; seq++) {
                        notifications.publishWorkflow(workflowId, "progress",
                                Json.createObjectBuilder().add("publisher", publisher).add("seq", seq).build());
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> inboxes.stream().allMatch(inbox -> inbox.size() >= 50));
        } finally {
            publishers.shutdownNow();
            subscriptions.forEach(Subscription::close);
        }
        for (List<Notification> inbox : inboxes) {
            assertThat(inbox).hasSize(50);
            Map<Integer, List<Integer>> byPublisher = new HashMap<>();
            for (Notification n : inbox) {
                var data = n.message().getJsonObject("data");
                byPublisher.computeIfAbsent(data.getInt("publisher"), k -> new ArrayList<>()).add(data.getInt("seq"));
            }
            assertThat(byPublisher).hasSize(5);
            byPublisher.values().forEach(seqs -> assertThat(seqs).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        }
    }

    @Test
    void messagesAreJsonWithTypeDataAndTimestamp() {
        List<Notification> inbox = new CopyOnWriteArrayList<>();
        try (Subscription s = notifications.subscribe(NotificationSystem.workflowChannel(workflowId), inbox::add)) {
            notifications.publishWorkflow(workflowId, "started", json("{\"step\":1}"));
            await().atMost(Duration.ofSeconds(5)).until(() -> inbox.size() == 1);
        }
        Notification received = inbox.get(0);
        assertThat(received.channel()).isEqualTo("workflow:" + workflowId);
        assertThat(received.type()).isEqualTo("started");
        assertThat(received.message().getJsonObject("data")).isEqualTo(json("{\"step\":1}"));
        assertThat(received.message().getString("timestamp")).isNotBlank();
        assertThat(received.message().getString("workflowId")).isEqualTo(workflowId);
    }

    @Test
    void aThirtyTwoKilobytePayloadPasses() {
        String big = "x".repeat(32 * 1024);
        List<Notification> inbox = new CopyOnWriteArrayList<>();
        try (Subscription s = notifications.subscribe(NotificationSystem.workflowChannel(workflowId), inbox::add)) {
            notifications.publishWorkflow(workflowId, "big", Json.createValue(big));
            await().atMost(Duration.ofSeconds(5)).until(() -> inbox.size() == 1);
        }
        assertThat(inbox.get(0).message().getString("data")).isEqualTo(big);
    }

    @Test
    void publishingWithNoSubscriberIsFine() {
        assertThat(notifications.publishWorkflow(workflowId + "-nobody", "lonely", json("{}"))).isZero();
    }

    @Test
    void aTaskEventNamingItsWorkflowAlsoReachesTheWorkflowChannelAndPatterns() {
        String taskId = "task-" + ns;
        List<Notification> taskInbox = new CopyOnWriteArrayList<>();
        List<Notification> workflowInbox = new CopyOnWriteArrayList<>();
        List<Notification> allWorkflows = new CopyOnWriteArrayList<>();
        List<Notification> allTasks = new CopyOnWriteArrayList<>();
        try (Subscription t = notifications.subscribe(NotificationSystem.taskChannel(taskId), taskInbox::add);
                Subscription w = notifications.subscribe(NotificationSystem.workflowChannel(workflowId), workflowInbox::add);
                Subscription aw = notifications.subscribePattern(NotificationSystem.ALL_WORKFLOWS,
                        n -> keepOwn(n, allWorkflows));
                Subscription at = notifications.subscribePattern(NotificationSystem.ALL_TASKS, n -> keepOwn(n, allTasks))) {
            notifications.publishTask(taskId, workflowId, "task_done", json("{\"ok\":true}"));
            notifications.publishTask(taskId, null, "task_alone", json("{}"));

            await().atMost(Duration.ofSeconds(5)).until(() -> taskInbox.size() == 2 && workflowInbox.size() == 1
                    && allWorkflows.size() == 1 && allTasks.size() == 2);
        }
        assertThat(workflowInbox.get(0).type()).isEqualTo("task_done");
        assertThat(workflowInbox.get(0).message().getString("taskId")).isEqualTo(taskId);
        assertThat(allWorkflows.get(0).channel()).isEqualTo("workflow:" + workflowId);
        assertThat(taskInbox).extracting(Notification::type).containsExactly("task_done", "task_alone");
    }

    @Test
    void aSlowSubscribersOverflowIsCountedAsDroppedAndNeverBlocksPublishers() {
        NotificationSystem smallQueues = new NotificationSystem(redis, delivery, 5);
        CountDownLatch slow = new CountDownLatch(1);
        List<Notification> slowInbox = new CopyOnWriteArrayList<>();
        List<Notification> fastInbox = new CopyOnWriteArrayList<>();
        String channel = NotificationSystem.workflowChannel(workflowId);
        try (var slowSubscriber = smallQueues.subscribe(channel, n -> {
                    awaitQuietly(slow);
                    slowInbox.add(n);
                });
                var fastSubscriber = notifications.subscribe(channel, fastInbox::add)) {
            long started = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                smallQueues.publishWorkflow(workflowId, "burst", Json.createValue(i));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));

            await().atMost(Duration.ofSeconds(5)).until(() -> fastInbox.size() == 50);
            await().atMost(Duration.ofSeconds(5)).until(() -> slowSubscriber.dropped() >= 40);
            slow.countDown();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> slowSubscriber.delivered() + slowSubscriber.dropped() == 50);
            assertThat(slowInbox).hasSizeBetween(1, 10);
            assertThat(fastSubscriber.dropped()).isZero();
            List<Integer> order = slowInbox.stream().map(n -> n.message().getInt("data")).toList();
            assertThat(order).isSorted();
        }
    }

    @Test
    void aSubscriptionSurvivesAReconnectOfTheClient() {
        String clientName = "compozy-test-" + ns;
        RedissonClient own = backend.newClient(clientName);
        try {
            NotificationSystem reconnecting = new NotificationSystem(own, delivery, 100);
            List<Notification> inbox = new CopyOnWriteArrayList<>();
            try (Subscription s = reconnecting.subscribe(NotificationSystem.workflowChannel(workflowId), inbox::add)) {
                notifications.publishWorkflow(workflowId, "before", json("{}"));
                await().atMost(Duration.ofSeconds(5)).until(() -> inbox.size() == 1);

                killConnectionsNamed(clientName);

                // Redisson re-subscribes on its new connection: keep publishing until one arrives.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    notifications.publishWorkflow(workflowId, "after", json("{}"));
                    return inbox.stream().anyMatch(n -> n.type().equals("after"));
                });
            }
        } finally {
            own.shutdown();
        }
    }

    /** Kills only our own client's connections (the server is shared): CLIENT KILL ID for each named one. */
    private void killConnectionsNamed(final String clientName) {
        // CLIENT is not allowed in scripts, so this goes through Redisson's command executor.
        CommandAsyncExecutor commands = ((Redisson) redis).getCommandExecutor();
        List<String> clients = commands.get(commands.<List<String>, List<String>>readAsync("any", StringCodec.INSTANCE,
                RedisCommands.CLIENT_LIST));
        List<String> ids = clients.stream().flatMap(String::lines)
                .filter(line -> line.contains(" name=" + clientName + " "))
                .map(line -> line.substring(line.indexOf("id=") + 3, line.indexOf(' ', line.indexOf("id="))))
                .toList();
        assertThat(ids).as("connections of %s", clientName).isNotEmpty();
        RedisStrictCommand<Long> clientKill = new RedisStrictCommand<>("CLIENT", "KILL");
        for (String id : ids) {
            commands.get(commands.<Long, Long>writeAsync("any", StringCodec.INSTANCE, clientKill, "ID", id));
        }
    }

    private void keepOwn(final Notification notification, final List<Notification> inbox) {
        if (notification.channel().contains(ns)) { // the pattern also sees other work on the shared server
            inbox.add(notification);
        }
    }

    private static void awaitQuietly(final CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
