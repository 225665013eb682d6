package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.json.Json;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.redisson.client.RedisException;

/**
 * Writes whose reply never comes back (the proxy holds every reply until the client gives up): Redis ran
 * the write, the caller got an error. The client must not have sent it again behind the caller's back, and
 * a claim (a webhook delivery, a lock) the caller never learnt it won must not stay claimed by nobody.
 */
class LostReplyTest {

    @RegisterExtension
    static final ProxiedRedis redis = new ProxiedRedis();
    private final String ns = "lost-reply-" + UUID.randomUUID().toString().substring(0, 8);
    private ScheduledExecutorService scheduler;

    @BeforeEach
    void connect() {
        redis.reconnect();
        scheduler = Executors.newSingleThreadScheduledExecutor(StoreExecutors.daemonThreads("lost-reply-test"));
    }

    @AfterEach
    void disconnect() {
        scheduler.shutdownNow();
        redis.closeClient();
        TestBackend.deleteKeysContaining(redis.direct(), ns);
    }

    @Test
    void aMemoryAppendWhoseReplyIsLostIsAppliedOnce() {
        MemoryStore memory = new MemoryStore(redis.client(), "memory:");
        memory.append(ns + "-warm", List.of(Json.createValue("x")), 1, 0); // the script is loaded: EVALSHA runs it
        redis.proxy().holdReplies();
        assertThatThrownBy(() -> memory.append(ns, List.of(Json.createValue("hello")), 1, 0))
                .isInstanceOf(RedisException.class);
        redis.proxy().releaseReplies();

        MemoryStore direct = new MemoryStore(redis.direct(), "memory:");
        assertThat(direct.count(ns)).as("messages appended by one call").isEqualTo(1);
        assertThat(direct.metadata(ns)).as("counts added by one call").containsEntry("message_count", 1L);
    }

    @Test
    void anEventWhoseReplyIsLostIsLoggedOnce() {
        ExecutionEventStream events = new ExecutionEventStream(redis.client(), Runnable::run, 10);
        events.append(ns + "-warm", "task.started", Json.createValue("x")); // the script is loaded: EVALSHA runs it
        redis.proxy().holdReplies();
        assertThatThrownBy(() -> events.append(ns, "task.started", Json.createValue("x")))
                .isInstanceOf(RedisException.class);
        redis.proxy().releaseReplies();

        assertThat(new ExecutionEventStream(redis.direct(), Runnable::run, 10).replayAfter(ns, 0))
                .extracting(ExecutionEvent::id).as("ids logged by one call").containsExactly(1L);
    }

    @Test
    void aFirstWebhookDeliveryWhoseReplyIsLostIsAFirstDeliveryWhenTheSenderRetries() {
        WebhookIdempotency webhooks = new WebhookIdempotency(redis.client(), Duration.ofMinutes(10), "idempotency_key");
        loadTheScriptThatTakesClaimsBack();
        redis.proxy().holdReplies();
        assertThatThrownBy(() -> webhooks.firstDelivery(ns, "delivery-1")).isInstanceOf(RedisException.class);
        redis.proxy().releaseReplies();

        WebhookIdempotency direct = new WebhookIdempotency(redis.direct(), Duration.ofMinutes(10), "idempotency_key");
        assertThat(direct.firstDelivery(ns, "delivery-1"))
                .as("the retry of a delivery that answered an error is not a duplicate").isTrue();
        assertThat(direct.firstDelivery(ns, "delivery-1")).as("then it is recorded").isFalse();
    }

    @Test
    void aLockWhoseAcquisitionReplyIsLostIsNotLeftHeldByNobody() {
        LockManager locks = new LockManager(redis.client(), scheduler);
        loadTheScriptThatTakesClaimsBack();
        redis.proxy().holdReplies();
        assertThatThrownBy(() -> locks.tryLease(ns, Duration.ofMinutes(10))).isInstanceOf(RedisException.class);
        assertThatThrownBy(() -> locks.tryAcquire(ns + "-held", Duration.ofMinutes(10)))
                .isInstanceOf(RedisException.class);
        redis.proxy().releaseReplies();

        LockManager direct = new LockManager(redis.direct(), scheduler);
        assertThat(direct.isLocked(ns)).as("a lease nobody got").isFalse();
        assertThat(direct.isLocked(ns + "-held")).as("a held lock nobody got").isFalse();
    }

    /**
     * Redisson sends a script as EVALSHA first: a held NOSCRIPT reply would keep a script the server has not
     * seen from running. A lock released once loads the compare-and-delete script.
     */
    private void loadTheScriptThatTakesClaimsBack() {
        LockManager locks = new LockManager(redis.client(), scheduler);
        locks.release(ns + "-warm", locks.tryLease(ns + "-warm", Duration.ofMinutes(1)).orElseThrow());
    }
}
