package io.compozy.cache.adapter;

import io.compozy.cache.config.Secret;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The Redis ACL user of one ordinary factory on the embedded server: a generated password, keys and channels
 * limited to the factory's prefix, and every command but the administrative and dangerous ones
 * (docs/security.md lists them). Redis enforces it, inside Lua scripts too.
 *
 * @param name the ACL user name
 * @param password generated at each adapter start; only Redis and the factory's client know it
 */
record ApplicationUser(String name, Secret password) {

    /**
     * Beyond Redis's own {@code @admin} and {@code @dangerous} categories (CONFIG, DEBUG, FLUSHALL, FLUSHDB,
     * KEYS, MONITOR, MODULE, REPLICAOF, SHUTDOWN, ACL but WHOAMI, INFO, RESTORE, MIGRATE, SORT, CLIENT KILL, ...):
     * the commands that act on what every user shares, the server's functions and its script cache.
     */
    static final List<String> DENIED = List.of("-@admin", "-@dangerous", "-function", "+function|list",
            "-script|flush", "-script|kill", "-pubsub|numpat");

    static ApplicationUser forFactory(final FactoryAccess access, final Secret password) {
        String name = access.redisUser().orElseGet(() -> access.keyPrefix()
                .map(prefix -> "compozy-app-" + shortHash(prefix)).orElse("compozy-app"));
        return new ApplicationUser(name, password);
    }

    /**
     * The ACL SETUSER rules, in order. A prefix {@code P} gives the keys and channels {@code P*}, and the names
     * Redisson derives from an object's name for its own bookkeeping ({@code {P...}:suffix} and
     * {@code prefix:{P...}}: a map cache's expiry set, a lock's channel).
     */
    List<String> rules(final FactoryAccess access) {
        List<String> rules = new ArrayList<>(List.of("reset", "on", ">" + password.reveal()));
        if (access.keyPrefix().isPresent()) {
            String prefix = access.keyPrefix().get();
            for (String pattern : List.of(prefix + "*", "{" + prefix + "*", "*:{" + prefix + "*")) {
                rules.add("~" + pattern);
                rules.add("&" + pattern);
            }
        } else {
            rules.add("allkeys");
            rules.add("allchannels");
        }
        rules.add("+@all");
        rules.addAll(DENIED);
        return List.copyOf(rules);
    }

    /** A stable, short, ACL-safe name for a prefix (which may hold characters a user name may not). */
    private static String shortHash(final String prefix) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(prefix.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "ApplicationUser[" + name + "]";
    }
}
