/**
 * Standalone persistence: point-in-time snapshots of the embedded redis-server (Redis BGSAVE, a
 * fork with copy-on-write) kept as generations in a Berkeley DB JE store, optionally AES-256-GCM
 * encrypted, restored natively by redis-server at start. {@link io.compozy.cache.persistence.SnapshotManager}
 * is the entry point; docs/persistence.md states the guarantees and the format.
 */
package io.compozy.cache.persistence;
