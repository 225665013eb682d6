package io.compozy.cache.web.store;

/**
 * Keeps the keys of one entity in one Redis Cluster hash slot. Redis Cluster hashes only what stands between
 * the first {@code {} and the next {@code }} of a key, so an entity whose keys are {@code {name}} and
 * {@code {name}:suffix} (a memory list and its metadata, a resource's value and its ETag, an event log and its
 * sequence, an MCP definition and its status) lives in one slot, and the scripts, atomic batches and MULTI blocks
 * that touch several of them run on Cluster too (which refuses commands across slots with CROSSSLOT). On a single
 * Redis the braces are just characters. {@code name} is what the entity's key was before (docs/stores.md, "Key
 * layout").
 */
public final class HashTag {

    private HashTag() {
    }

    /** {@code {name}}: the entity's base key, its own hash tag. */
    public static String of(final String name) {
        return opening(name) + "}";
    }

    /**
     * How the key of every name that begins with {@code start} begins: {@link #of} without its closing brace, for a
     * SCAN MATCH prefix and for taking a name back out of a key.
     */
    public static String opening(final String start) {
        return "{" + start;
    }
}
