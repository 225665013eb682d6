/**
 * The resource store: versioned configuration kept as canonical JSON at
 * {@code {prefix}:{project}:{type}:{id}[:ver:{version}]}, with an ETag (hex SHA-256 of the stored
 * bytes) beside it, compare-and-set by Lua, and put/delete events on
 * {@code {prefix}:events:{project}:{type}} that {@link io.compozy.cache.web.store.resource.ResourceStore#watch}
 * turns into a self-healing stream.
 */
package io.compozy.cache.web.store.resource;
