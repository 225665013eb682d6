package io.compozy.cache.web.observe;

import io.compozy.cache.web.store.StoreException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/** The {@code status} label of one store operation: ok, a domain outcome, or error. */
final class Outcome {

    static final String OK = "ok";
    static final String ERROR = "error";

    /** Domain outcomes are the stores' reasons, named as callers know them (HTTP 412 is a "mismatch"). */
    private static final Map<StoreException.Reason, String> REASONS = new EnumMap<>(StoreException.Reason.class);

    static {
        REASONS.put(StoreException.Reason.NOT_FOUND, "not_found");
        REASONS.put(StoreException.Reason.ALREADY_EXISTS, "duplicate");
        REASONS.put(StoreException.Reason.ETAG_MISMATCH, "mismatch");
        REASONS.put(StoreException.Reason.CONFLICT, "conflict");
        REASONS.put(StoreException.Reason.NOT_HELD, "not_held");
        REASONS.put(StoreException.Reason.NOT_OWNER, "not_owner");
        REASONS.put(StoreException.Reason.INVALID_ARGUMENT, "invalid");
        REASONS.put(StoreException.Reason.CORRUPT_DATA, "corrupt_data");
        REASONS.put(StoreException.Reason.LIMIT_REACHED, "limit_reached");
    }

    private Outcome() {
    }

    /** The status of a call that returned {@code result}; {@code absent} is empty when "nothing" is ok. */
    static String ofResult(final Object result, final String absent) {
        if (absent.isEmpty()) {
            return OK;
        }
        boolean nothing = result == null || Boolean.FALSE.equals(result)
                || result instanceof Optional<?> optional && optional.isEmpty();
        return nothing ? absent : OK;
    }

    /** The status of a call that threw {@code failure}. */
    static String ofFailure(final Throwable failure) {
        return failure instanceof StoreException store ? REASONS.getOrDefault(store.reason(), ERROR) : ERROR;
    }

    /** Every status a {@link StoreException} can produce. */
    static Iterable<String> domainOutcomes() {
        return REASONS.values();
    }
}
