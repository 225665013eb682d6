/**
 * Webhook idempotency: {@code SET idempotency:webhook:{namespace}:{key} 1 NX PX ttl}; a second delivery
 * of the same key within the TTL is a duplicate.
 */
package io.compozy.cache.web.store.webhook;
