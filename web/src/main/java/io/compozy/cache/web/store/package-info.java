/**
 * The domain stores of {@code docs/stores.md}, one package per store.
 *
 * <p>Every store is an {@code @ApplicationScoped} bean holding the one injected {@code RedissonClient};
 * none knows whether it talks to the embedded redis-server or an external Redis. Every call uses
 * {@code StringCodec} so that the data stays readable by any Redis client. Each store also has a
 * constructor taking the client (and its settings) directly, which the contract suite uses.
 *
 * <p>This package holds what the stores share: {@link io.compozy.cache.web.store.StoreException}
 * (the one error type the REST layer maps), {@link io.compozy.cache.web.store.LuaScript},
 * {@link io.compozy.cache.web.store.KeyPatterns}, {@link io.compozy.cache.web.store.JsonText} and
 * {@link io.compozy.cache.web.store.StoreExecutors}.
 */
package io.compozy.cache.web.store;
