package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** docs/stores.md, "Execution event stream". */
public abstract class ExecutionEventStreamContract extends StoreContract {

    private ExecutionEventStream stream;
    private String execId;

    @BeforeEach
    void createStore() {
        stream = new ExecutionEventStream(redis, delivery, 1000);
        execId = "exec-" + ns;
    }

    @Test
    void eventsAreNumberedFromOneAndReplayedAfterAnIdOldestFirst() {
        for (int i = 1; i <= 3; i++) {
            assertThat(stream.append(execId, "step", json("{\"n\":" + i + "}")).id()).isEqualTo(i);
        }

        List<ExecutionEvent> replay = stream.replayAfter(execId, 1);

        assertThat(replay).extracting(ExecutionEvent::id).containsExactly(2L, 3L);
        assertThat(replay.get(0).data()).isEqualTo(json("{\"n\":2}"));
        assertThat(stream.replayAfter(execId, 3)).isEmpty();
    }

    @Test
    void theLogKeepsTheLast500AndBothKeysExpireIn24Hours() {
        for (int i = 0; i < 510; i++) {
            stream.append(execId, "tick", json("{}"));
        }
        assertThat(redis.getList(ExecutionEventStream.logKey(execId)).size()).isEqualTo(500);
        assertThat(stream.replayAfter(execId, 0)).extracting(ExecutionEvent::id)
                .containsExactlyElementsOf(LongStream.rangeClosed(11, 510).boxed().toList());
        long day = Duration.ofHours(24).toMillis();
        assertThat(redis.getList(ExecutionEventStream.logKey(execId)).remainTimeToLive()).isBetween(day - 60_000, day);
        assertThat(redis.getBucket(ExecutionEventStream.sequenceKey(execId)).remainTimeToLive()).isBetween(day - 60_000, day);
    }

    @Test
    void aStreamHasOneLastEventAndTakesNoRunnerEventAfterIt() throws Exception {
        assertThat(stream.appendIfOpen(execId, "task.started", json("{}"))).map(ExecutionEvent::id).contains(1L);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<java.util.Optional<ExecutionEvent>>> ends = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                ends.add(pool.submit(() -> stream.appendLast(execId, "workflow.failed", json("{}"))));
            }
            long winners = 0;
            for (Future<java.util.Optional<ExecutionEvent>> end : ends) {
                winners += end.get(30, TimeUnit.SECONDS).isPresent() ? 1 : 0;
            }
            assertThat(winners).as("concurrent last events that were logged").isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(stream.appendIfOpen(execId, "task.succeeded", json("{}"))).as("a runner's event after the end").isEmpty();
        assertThat(redis.getBucket(ExecutionEventStream.endKey(execId)).remainTimeToLive()).isPositive();

        assertThat(stream.append(execId, "note", json("{}")).id()).as("a REST client's event").isEqualTo(3);
        assertThat(stream.replayAfter(execId, 0)).extracting(ExecutionEvent::type)
                .containsExactly("task.started", "workflow.failed", "note");
    }

    @Test
    void subscribersReceiveEachEventInOrder() {
        List<ExecutionEvent> received = new CopyOnWriteArrayList<>();
        try (Subscription subscription = stream.subscribe(execId, received::add)) {
            for (int i = 0; i < 20; i++) {
                stream.append(execId, "step", json("{\"i\":" + i + "}"));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 20);
        }
        assertThat(received).extracting(ExecutionEvent::id)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(received).extracting(ExecutionEvent::type).containsOnly("step");
    }

    @Test
    void concurrentAppendsAreLoggedAndPublishedInIdOrderEachOnce() throws Exception {
        int writers = 8;
        int perWriter = 50;
        List<ExecutionEvent> live = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try (Subscription subscription = stream.subscribe(execId, live::add)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perWriter; i++) {
                        stream.append(execId, "step", json("{\"w\":" + writer + ",\"i\":" + i + "}"));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            int total = writers * perWriter;
            await().atMost(Duration.ofSeconds(30)).until(() -> live.size() >= total);
            List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
            // A live reader sees every id once, in order: it may drop nothing as "already sent".
            assertThat(live).extracting(ExecutionEvent::id).containsExactlyElementsOf(expected);
            // The log (newest first) holds the ids in the same order they were published.
            List<Long> logged = redis.<String>getList(ExecutionEventStream.logKey(execId),
                    org.redisson.client.codec.StringCodec.INSTANCE).readAll().stream()
                    .map(j -> Long.parseLong(j.substring(6, j.indexOf(',')))).toList();
            assertThat(logged).isSortedAccordingTo(java.util.Comparator.reverseOrder()).hasSize(total);
            assertThat(stream.replayAfter(execId, 0)).extracting(ExecutionEvent::id).containsExactlyElementsOf(expected);
        } finally {
            pool.shutdownNow();
        }
    }
}
