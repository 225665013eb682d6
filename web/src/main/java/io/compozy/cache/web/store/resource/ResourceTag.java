package io.compozy.cache.web.store.resource;

/** A listed resource: its key and the ETag a Get would return. */
public record ResourceTag(ResourceKey key, String etag) {
}
