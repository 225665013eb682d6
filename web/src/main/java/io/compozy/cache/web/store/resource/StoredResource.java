package io.compozy.cache.web.store.resource;

/**
 * A resource as stored.
 *
 * @param key which resource
 * @param json the canonical JSON text exactly as stored (its UTF-8 bytes are what the ETag hashes)
 * @param etag the hex SHA-256 of those bytes
 */
public record StoredResource(ResourceKey key, String json, String etag) {
}
