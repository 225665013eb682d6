package io.compozy.cache.web.store;

/** A live subscription (a watch, a notification listener); closing it stops delivery. Idempotent. */
public interface Subscription extends AutoCloseable {

    @Override
    void close();
}
