package io.compozy.cache.web.store;

import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.redisson.api.RedissonClient;

/**
 * What every store contract shares: the backend's client, a key namespace of its own per test (the
 * servers are shared with other work: no FLUSHDB, only this test's keys are removed afterwards) and
 * executors that are shut down after each test.
 */
public abstract class StoreContract {

    protected TestBackend backend;
    protected RedissonClient redis;
    /** Unique per test; every key a test writes contains it. */
    protected String ns;
    protected ScheduledExecutorService scheduler;
    protected ExecutorService delivery;

    @BeforeEach
    void connect(final TestBackend testBackend) {
        backend = testBackend;
        redis = testBackend.client();
        ns = "contract-" + UUID.randomUUID().toString().substring(0, 12);
        scheduler = Executors.newScheduledThreadPool(2, StoreExecutors.daemonThreads("test-scheduler"));
        delivery = Executors.newCachedThreadPool(StoreExecutors.daemonThreads("test-delivery"));
    }

    @AfterEach
    void removeOwnKeys() throws InterruptedException {
        scheduler.shutdownNow();
        delivery.shutdownNow();
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
        TestBackend.deleteKeysContaining(redis, ns);
    }
}
