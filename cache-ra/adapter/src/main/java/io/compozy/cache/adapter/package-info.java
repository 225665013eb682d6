/**
 * The Jakarta Connectors 2.1 classes. {@link io.compozy.cache.adapter.CacheResourceAdapter} owns one
 * {@link io.compozy.cache.adapter.CacheBackend} (one {@code RedissonClient}, plus the embedded
 * redis-server in standalone mode); every managed connection and every handle shares it.
 */
package io.compozy.cache.adapter;
