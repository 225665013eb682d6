package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.lock.HeldLock;
import io.compozy.cache.web.store.lock.LockManager;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "Lock manager". */
public abstract class LockManagerContract extends StoreContract {

    private LockManager locks;
    private String resource;

    @BeforeEach
    void createManager() {
        locks = new LockManager(redis, scheduler);
        resource = "job-" + ns;
    }

    @Test
    void acquireSetsARandomTokenWithTheTtlAndFailsAtOnceWhenHeld() {
        Duration ttl = Duration.ofSeconds(30);
        HeldLock lock = locks.tryAcquire(resource, ttl).orElseThrow();
        try {
            assertThat(lock.key()).isEqualTo("lock:" + resource);
            assertThat(redis.getBucket("lock:" + resource, StringCodec.INSTANCE).get()).isEqualTo(lock.token());
            assertThat(redis.getBucket("lock:" + resource).remainTimeToLive()).isBetween(1L, ttl.toMillis());

            long started = System.nanoTime();
            assertThat(locks.tryAcquire(resource, ttl)).isEmpty();
            // "At once" against the alternative, waiting for the holder: that would take the TTL (30 s).
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(ttl.dividedBy(2));
        } finally {
            lock.release();
        }
        assertThat(locks.isLocked(resource)).isFalse();
    }

    @Test
    void tenConcurrentAcquirersHaveExactlyOneWinner() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<Optional<HeldLock>>> attempts;
        try {
            CountDownLatch start = new CountDownLatch(1);
            attempts = IntStream.range(0, 10).mapToObj(i -> pool.submit(() -> {
                start.await();
                return locks.tryAcquire(resource, Duration.ofSeconds(30));
            })).toList();
            start.countDown();
        } finally {
            pool.shutdown();
        }
        List<HeldLock> winners = attempts.stream().map(f -> {
            try {
                return f.get();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).flatMap(Optional::stream).toList();
        assertThat(winners).hasSize(1);
        winners.get(0).release();
    }

    @Test
    void releasingALockNotHeldOrNotOwnedAreDistinctErrors() {
        String token = locks.tryLease(resource, Duration.ofSeconds(30)).orElseThrow();

        assertThatThrownBy(() -> locks.release(resource, "not-the-token"))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_OWNER));
        assertThat(locks.isLocked(resource)).isTrue();

        locks.release(resource, token);
        assertThat(locks.isLocked(resource)).isFalse();
        assertThatThrownBy(() -> locks.release(resource, token))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_HELD));
    }

    @Test
    void aHeldLockRenewsItselfPastItsTtl() {
        // Renewed every ttl/3, a lock survives a renewal that runs up to 2/3 of the TTL (1 s here) late: the
        // margin a loaded machine gets. Without renewal it would be gone once the TTL has passed.
        Duration ttl = Duration.ofMillis(1500);
        long acquired = System.nanoTime();
        HeldLock lock = locks.tryAcquire(resource, ttl).orElseThrow();
        try {
            await().atMost(Duration.ofSeconds(30)).failFast("the lock was lost before its TTL had passed twice",
                    () -> !lock.isHeld()).until(() -> System.nanoTime() - acquired > 2 * ttl.toNanos());
            assertThat(lock.isHeld()).isTrue();
            assertThat(redis.getBucket("lock:" + resource).remainTimeToLive()).as("renewed to the full TTL")
                    .isBetween(1L, ttl.toMillis());
        } finally {
            if (lock.isHeld()) { // a lost lock cannot be released: let the failure above be the one reported
                lock.release();
            }
        }
    }

    @Test
    void aCrashedHoldersLockFreesItselfByTtlExpiry() {
        ScheduledExecutorService crashingHolder = Executors.newSingleThreadScheduledExecutor();
        LockManager holder = new LockManager(redis, crashingHolder);
        holder.tryAcquire(resource, Duration.ofMillis(500)).orElseThrow();
        crashingHolder.shutdownNow(); // the holder dies: no renewal, no release

        assertThat(locks.tryAcquire(resource, Duration.ofSeconds(5))).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> !locks.isLocked(resource));
        HeldLock next = locks.tryAcquire(resource, Duration.ofSeconds(5)).orElseThrow();
        next.release();
    }

    @Test
    void anExpiredLeaseFreesItselfAndItsReleaseIsNotHeld() {
        String token = locks.tryLease(resource, Duration.ofMillis(200)).orElseThrow();
        await().atMost(Duration.ofSeconds(5)).until(() -> !locks.isLocked(resource));
        assertThatThrownBy(() -> locks.release(resource, token))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_HELD));
        assertThat(locks.tryLease(resource, Duration.ofSeconds(1))).isPresent();
    }

    @Test
    void aLockTakenOverAfterExpiryIsReportedLost() {
        ScheduledExecutorService crashingHolder = Executors.newSingleThreadScheduledExecutor();
        HeldLock first = new LockManager(redis, crashingHolder).tryAcquire(resource, Duration.ofMillis(300)).orElseThrow();
        crashingHolder.shutdownNow();
        await().atMost(Duration.ofSeconds(5)).until(() -> !locks.isLocked(resource));
        HeldLock second = locks.tryAcquire(resource, Duration.ofSeconds(5)).orElseThrow();

        assertThat(first.isHeld()).isFalse();
        assertThatThrownBy(first::release)
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_OWNER));
        assertThat(second.isHeld()).isTrue();
        second.release();
    }

    @Test
    void closingTheManagerReleasesItsLocks() {
        locks.tryAcquire(resource, Duration.ofSeconds(30)).orElseThrow();
        locks.close();
        assertThat(locks.isLocked(resource)).isFalse();
    }

    @Test
    void aTtlBelowOneMillisecondIsInvalid() {
        assertThatThrownBy(() -> locks.tryAcquire(resource, Duration.ZERO)).isInstanceOf(StoreException.class);
    }
}
