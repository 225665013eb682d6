package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import java.time.Duration;
import java.util.List;
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
}
