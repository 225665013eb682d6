/**
 * JCache (JSR-107) on the adapter's one shared client: Redisson's JCache implementation, driven by
 * {@link io.compozy.cache.jcache.SharedCachingProvider}, which hands each application class loader a
 * {@link javax.cache.CacheManager} whose codec deserializes with that class loader. The declared caches
 * ({@code compozy.jcache.caches}) are in every manager from the start.
 */
package io.compozy.cache.jcache;
