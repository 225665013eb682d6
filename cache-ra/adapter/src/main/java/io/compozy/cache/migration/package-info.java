/**
 * Moving the data with the mode, at start: a standalone snapshot store into an empty external Redis, and a
 * Redis into the embedded server. Keys travel as DUMP payloads read by redis-replicator and are written with
 * RESTORE ... ABSTTL through the adapter's RedissonClient, which routes each key to its node.
 * {@link io.compozy.cache.migration.DataImport} is the entry point; docs/migration.md tells the operator's side.
 */
package io.compozy.cache.migration;
