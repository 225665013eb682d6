/** The CDI producer of the one shared {@code RedissonClient}, taken from the resource adapter by JNDI. */
package io.compozy.cache.web.client;
