package io.compozy.cache.adapter;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Tells failovers apart from other changes in the masters a client follows. A failover is a master that left
 * and a master that joined within {@link #PAIRING_WINDOW}, in either order: the client may list the promoted
 * replica before it drops the dead master (a Cluster scan can add the new slot owner first) or after.
 * A master that joins with no loss nearby is a scale-out, one that leaves alone is a scale-in or an election
 * still running.
 */
final class MasterChanges {

    /** Far longer than an election (seconds); far shorter than the time between two deliberate reshardings. */
    static final Duration PAIRING_WINDOW = Duration.ofSeconds(60);

    /** Masters that left (lost) or joined (joined) and are not paired yet, with when it was seen, in nanos. */
    private final Map<String, Long> lost = new TreeMap<>();
    private final Map<String, Long> joined = new TreeMap<>();
    private Set<String> masters;
    /** The masters the last look found that the one before did not have. */
    private Set<String> newInLastLook = Set.of();

    /** One failover (or several at once): the masters gone, their successors, and how many were replaced. */
    record Failover(Set<String> gone, Set<String> successors, int count) {
    }

    /** The masters seen now; a failover when this view completes one. */
    Optional<Failover> observe(final Set<String> now, final long nanos) {
        if (masters == null) {
            masters = Set.copyOf(now);
            return Optional.empty();
        }
        masters.stream().filter(m -> !now.contains(m)).forEach(m -> lost.put(m, nanos));
        newInLastLook = now.stream().filter(m -> !masters.contains(m)).collect(Collectors.toCollection(TreeSet::new));
        newInLastLook.forEach(m -> joined.put(m, nanos));
        masters = Set.copyOf(now);
        lost.keySet().removeAll(now); // came back: it was never replaced
        joined.keySet().retainAll(now); // left again: it succeeded nobody
        long oldest = nanos - PAIRING_WINDOW.toNanos();
        lost.values().removeIf(seen -> seen - oldest < 0);
        joined.values().removeIf(seen -> seen - oldest < 0);
        if (lost.isEmpty() || joined.isEmpty()) {
            return Optional.empty();
        }
        Failover failover = new Failover(new TreeSet<>(lost.keySet()), new TreeSet<>(joined.keySet()),
                Math.min(lost.size(), joined.size()));
        lost.clear();
        joined.clear();
        return Optional.of(failover);
    }

    /** The masters the last look added, failover or not (for a line in the log). */
    Set<String> newInLastLook() {
        return newInLastLook;
    }
}
