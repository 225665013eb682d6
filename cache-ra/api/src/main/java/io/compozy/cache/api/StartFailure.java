package io.compozy.cache.api;

import java.util.Optional;

/**
 * Why the resource adapter did not start, for the applications that report it (the status endpoint,
 * readiness): when the adapter fails, nothing is bound at {@code eis/compozy/cache}, so this is the only
 * way its reason reaches them. The reason names keys, files and addresses, never a secret.
 */
public final class StartFailure {

    private static volatile String reason;

    private StartFailure() {
    }

    /** The reason of the adapter's last failed start; empty once it has started. */
    public static Optional<String> reason() {
        return Optional.ofNullable(reason);
    }

    /** Called by the resource adapter only: the reason of a failed start, or null when it started. */
    public static void record(final String why) {
        reason = why;
    }
}
