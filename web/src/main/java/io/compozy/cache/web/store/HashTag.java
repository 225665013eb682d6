package io.compozy.cache.web.store;

/**
 * Keeps the keys of one entity in one Redis Cluster hash slot. Redis Cluster hashes only what stands between
 * the first {@code {} and the next {@code }} of a key, so an entity whose keys are {@code {name}} and
 * {@code {name}:suffix} (a memory list and its metadata, a resource's value and its ETag, an event log and its
 * sequence, an MCP definition and its status) lives in one slot, and the scripts, atomic batches and MULTI blocks
 * that touch several of them run on Cluster too (which refuses commands across slots with CROSSSLOT). On a single
 * Redis the braces are just characters. {@code name} is what the entity's key was before (docs/stores.md, "Key
 * layout").
 *
 * <p>A name that begins with {@code }} (a memory key under an empty prefix, a prefix that begins with one) would
 * make {@code {}...}, the empty tag, which Cluster ignores (it hashes the whole key, so a list and its metadata
 * would land in two slots). Each leading {@code }} is written as {@code ~} before the brace instead:
 * {@code }chat} becomes {@code ~{chat}}, tagged {@code chat}. Every other name's key begins with {@code {}, so no
 * two names get one key; and no {@code }} stands before the first {@code {} (Redisson, which ends a tag at the
 * first {@code }} of the whole key, would then route the key by another slot than the server's). A name made only
 * of {@code }} has nothing to tag and is refused.
 */
public final class HashTag {

    private HashTag() {
    }

    /** {@code {name}} ({@code ~{rest}} when the name is {@code }rest}): the entity's base key, its own hash tag. */
    public static String of(final String name) {
        if (leadingBraces(name) == name.length()) {
            throw new IllegalArgumentException("'" + name + "' has no character other than '}' to make a hash tag of");
        }
        return opening(name) + "}";
    }

    /**
     * How the key of every name that begins with {@code start} begins: {@link #of} without its closing brace, for a
     * SCAN MATCH prefix and for taking a name back out of a key.
     */
    public static String opening(final String start) {
        int lead = leadingBraces(start);
        return "~".repeat(lead) + "{" + start.substring(lead);
    }

    private static int leadingBraces(final String name) {
        int lead = 0;
        while (lead < name.length() && name.charAt(lead) == '}') {
            lead++;
        }
        return lead;
    }
}
