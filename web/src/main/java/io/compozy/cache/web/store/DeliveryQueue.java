package io.compozy.cache.web.store;

import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands messages to one subscriber through a bounded queue, in order, one at a time, on an executor.
 *
 * <p>{@link #offer} never blocks: Redisson calls it on its I/O threads, and a publisher must never wait
 * for a slow subscriber. When the queue is full the message is counted in {@link #dropped()} instead.
 */
public final class DeliveryQueue<T> implements Subscription {

    private static final Logger LOG = Logger.getLogger(DeliveryQueue.class.getName());
    /** Drops of every queue of this application, for the notification-drops metric. */
    private static final LongAdder DROPPED_EVERYWHERE = new LongAdder();

    private final BlockingQueue<T> queue;
    private final Executor executor;
    private final Consumer<? super T> consumer;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private volatile boolean closed;
    private volatile Runnable onClose = () -> { };

    /**
     * @param capacity how many undelivered messages to keep before dropping
     * @param executor runs the delivery (one task at a time per queue)
     * @param consumer receives the messages in arrival order
     */
    public DeliveryQueue(final int capacity, final Executor executor, final Consumer<? super T> consumer) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a subscriber queue needs a capacity of at least 1, got " + capacity);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.executor = Objects.requireNonNull(executor, "executor");
        this.consumer = Objects.requireNonNull(consumer, "consumer");
    }

    /** Messages dropped by every subscriber queue of this application since it started. */
    public static long droppedEverywhere() {
        return DROPPED_EVERYWHERE.sum();
    }

    /** What to undo when the subscription closes (remove the Redis listener). */
    public void onClose(final Runnable action) {
        this.onClose = Objects.requireNonNull(action, "action");
    }

    /** Queues a message for delivery, or counts it as dropped when the queue is full. Never blocks. */
    public void offer(final T message) {
        if (closed) {
            return;
        }
        if (queue.offer(message)) {
            scheduleDrain();
        } else {
            dropped.incrementAndGet();
            DROPPED_EVERYWHERE.increment();
        }
    }

    /** Messages lost because this subscriber was too slow. */
    public long dropped() {
        return dropped.get();
    }

    /** Messages handed to the consumer. */
    public long delivered() {
        return delivered.get();
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false);
                LOG.log(Level.FINE, "delivery executor refused work (shutting down?)", e);
            }
        }
    }

    private void drain() {
        try {
            T message;
            while (!closed && (message = queue.poll()) != null) {
                try {
                    consumer.accept(message);
                    delivered.incrementAndGet();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a subscriber failed on a message; it keeps receiving the next ones", e);
                }
            }
        } finally {
            draining.set(false);
        }
        if (!closed && !queue.isEmpty()) {
            scheduleDrain(); // a message arrived between the last poll and clearing the flag
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        onClose.run();
    }
}
