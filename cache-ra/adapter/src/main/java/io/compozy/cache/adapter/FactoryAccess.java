package io.compozy.cache.adapter;

import io.compozy.cache.config.Secret;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What one connection factory of server.xml may reach (docs/security.md, "Applications on the same server"):
 * its key prefix, the Redis user its client logs in as, and whether it is the administrator's. Factories with
 * equal access share one client.
 *
 * @param keyPrefix prepended to every object name the application uses, without the application writing it
 * @param redisUser distributed mode: the ACL user the operator created for this factory; standalone mode: the
 *                  name of the user the adapter creates (else one derived from the prefix)
 * @param redisPassword distributed mode: that user's password (standalone mode generates one)
 * @param administrator the adapter's own client, snapshots ({@code persistence()}) included
 * @param applications the applications (their names in server.xml) an administrator factory serves
 */
public record FactoryAccess(Optional<String> keyPrefix, Optional<String> redisUser, Optional<Secret> redisPassword,
                     boolean administrator, Set<String> applications) {

    static final String KEY_PREFIX = "keyPrefix";
    static final String REDIS_USER = "redisUser";
    static final String REDIS_PASSWORD = "redisPassword";
    static final String ADMINISTRATOR = "administrator";
    static final String APPLICATIONS = "applications";

    /** Glob characters would widen the ACL key pattern built from the prefix; whitespace ends an ACL rule. */
    private static final Pattern PREFIX = Pattern.compile("[^*?\\[\\]\\\\\\s]{1,128}");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** The shipped factory's access: no prefix, no user of its own, not the administrator's. */
    static final FactoryAccess ORDINARY = new FactoryAccess(Optional.empty(), Optional.empty(), Optional.empty(),
            false, Set.of());

    public FactoryAccess {
        keyPrefix.ifPresent(prefix -> check(PREFIX.matcher(prefix).matches(), KEY_PREFIX, "'" + prefix + "' is not a"
                + " key prefix: 1 to 128 characters, no whitespace and none of * ? [ ] \\"));
        redisUser.ifPresent(user -> check(USER.matcher(user).matches(), REDIS_USER, "'" + user + "' is not a Redis"
                + " user name this adapter accepts: 1 to 64 letters, digits, '.', '_' or '-'"));
        check(redisPassword.isEmpty() || redisUser.isPresent(), REDIS_PASSWORD, "is set but " + REDIS_USER
                + " is not: name the ACL user the password belongs to");
        check(!administrator || keyPrefix.isEmpty() && redisUser.isEmpty(), ADMINISTRATOR, "is true, which hands out"
                + " the adapter's own client: it takes no " + KEY_PREFIX + " or " + REDIS_USER);
        check(applications.isEmpty() || administrator, APPLICATIONS, "limits who may use an administrator factory;"
                + " set " + ADMINISTRATOR + "=true too, or remove it");
        applications = Set.copyOf(applications);
    }

    /** From the factory's properties in server.xml; blank counts as unset. */
    public static FactoryAccess of(final String keyPrefix, final String redisUser, final String redisPassword,
                            final Boolean administrator, final String applications) {
        return new FactoryAccess(present(keyPrefix), present(redisUser), present(redisPassword).map(Secret::of),
                Boolean.TRUE.equals(administrator), present(applications).map(list -> Arrays.stream(list.split(","))
                        .map(String::trim).filter(name -> !name.isEmpty()).collect(Collectors.toSet())).orElse(Set.of()));
    }

    /** For log lines and errors: never the password. */
    String describe() {
        return administrator ? "administrator factory" + (applications.isEmpty() ? "" : " of " + applications)
                : "factory with " + keyPrefix.map(p -> "key prefix '" + p + "'").orElse("no key prefix")
                        + redisUser.map(u -> ", Redis user '" + u + "'").orElse("");
    }

    private static Optional<String> present(final String value) {
        return Optional.ofNullable(value).filter(v -> !v.isBlank());
    }

    private static void check(final boolean ok, final String property, final String problem) {
        if (!ok) {
            throw new IllegalArgumentException("connection factory property " + property + " " + problem);
        }
    }
}
