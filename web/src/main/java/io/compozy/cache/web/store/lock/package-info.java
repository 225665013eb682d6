/**
 * The lock manager: {@code SET lock:{resource} <token> NX PX ttl}, failing at once when held, renewed
 * every ttl/3 while held, released by a compare-then-DEL script. Locks free themselves by real TTL
 * expiry when their holder stops renewing (a crash).
 */
package io.compozy.cache.web.store.lock;
