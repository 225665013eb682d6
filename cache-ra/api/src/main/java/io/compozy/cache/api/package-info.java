/**
 * What applications compile against to use the Compozy cache.
 *
 * <p>Look up {@link io.compozy.cache.api.CacheConnectionFactory} at {@code eis/compozy/cache}, open a
 * {@link io.compozy.cache.api.CacheConnection} and use it as the shared {@code RedissonClient}. The
 * resource adapter owns the client: closing a connection returns the handle, it never shuts the
 * client down. Ship this jar with {@code provided} scope; the resource adapter supplies it at run time.
 */
package io.compozy.cache.api;
